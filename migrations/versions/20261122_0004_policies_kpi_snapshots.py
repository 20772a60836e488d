"""Deadline policy per ticket, the agency on each event, agency e-mail, daily KPI snapshots.

Existing events get the ticket's current lead agency: the best the old rows can tell. The
append-only guard is lifted for that one UPDATE and put back in the same transaction.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 07:02:06.768633
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIONS = [
    'create', 'dispatch', 'answer_directly', 'sign_for', 'request_return', 'approve_return',
    'reject_return', 'record_progress', 'request_extension', 'approve_extension',
    'reject_extension', 'request_suspension', 'approve_suspension', 'reject_suspension',
    'resume', 'reply', 'approve_reply', 'reject_reply', 'follow_up', 'close', 'reopen',
    'archive', 'merge', 'chase', 'supervise', 'criticize',
]


def upgrade() -> None:
    op.create_table('kpi_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('scope', sa.String(length=24), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_kpi_snapshots_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_snapshots')),
    sa.UniqueConstraint('day', 'scope', name=op.f('uq_kpi_snapshots_day_scope'))
    )
    with op.batch_alter_table('kpi_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_snapshots_agency_id'), ['agency_id'], unique=False)

    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))

    _drop_append_only_guard()
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_ticket_events_occurred_at', ['occurred_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ticket_events_agency_id_agencies'), 'agencies', ['agency_id'], ['id'])
        # 调整分类 (reclassify) joins the actions the log may record.
        batch_op.drop_constraint(batch_op.f('ck_ticket_events_event_action'), type_='check')
        batch_op.create_check_constraint('event_action', sa.column('action').in_(ACTIONS + ['reclassify']))
    op.execute(
        "UPDATE ticket_events SET agency_id = "
        "(SELECT lead_agency_id FROM tickets WHERE tickets.id = ticket_events.ticket_id)"
    )
    _create_append_only_guard()

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline_policy', sa.String(length=32), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('deadline_policy')

    _drop_append_only_guard()
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ticket_events_agency_id_agencies'), type_='foreignkey')
        batch_op.drop_index('ix_ticket_events_occurred_at')
        batch_op.drop_column('agency_id')
        batch_op.drop_constraint(batch_op.f('ck_ticket_events_event_action'), type_='check')
        batch_op.create_check_constraint('event_action', sa.column('action').in_(ACTIONS))
    _create_append_only_guard()

    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('email')

    with op.batch_alter_table('kpi_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_snapshots_agency_id'))

    op.drop_table('kpi_snapshots')


# A copy of 0001's guard, not an import: a migration is a frozen snapshot and must not change
# when shared code does. SQLite's batch mode rebuilds the table, which drops its triggers.
def _create_append_only_guard() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER ticket_events_append_only BEFORE UPDATE OR DELETE ON ticket_events "
            "FOR EACH ROW EXECUTE FUNCTION ticket_events_append_only()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ticket_events_no_{operation.lower()} BEFORE {operation} "
                "ON ticket_events BEGIN "
                f"SELECT RAISE(ABORT, 'ticket_events is append-only ({operation} refused)'); END"
            )


def _drop_append_only_guard() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ticket_events_append_only ON ticket_events")
    else:
        op.execute("DROP TRIGGER IF EXISTS ticket_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS ticket_events_no_delete")
