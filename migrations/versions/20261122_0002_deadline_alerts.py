"""Deadline alerts: ticket_alerts (exactly-once 预警/超期/催办/通报) and tickets.next_alert_at.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 06:37:33.748318
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('ticket_alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_alerts_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_alerts')),
    sa.UniqueConstraint('ticket_id', 'kind', 'due_at', name=op.f('uq_ticket_alerts_ticket_id_kind_due_at'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_alert_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_tickets_next_alert_at', ['next_alert_at', 'id'], unique=False)

    # Tickets with a running clock are due a look now: the first sweep computes their alerts.
    op.execute(
        "UPDATE tickets SET next_alert_at = COALESCE(dispatched_at, created_at) "
        "WHERE next_due_at IS NOT NULL"
    )




def downgrade() -> None:
    # recreate='never': SQLite (>= 3.35) drops the column in place; a table rebuild would lose
    # the CHECK constraints that SQLite reflection cannot see.
    with op.batch_alter_table('tickets', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_tickets_next_alert_at')
        batch_op.drop_column('next_alert_at')

    op.drop_table('ticket_alerts')

