"""Transfers (one per call), the desk queue on calls, idempotency keys, API clients.

Calls recorded before this revision all have tickets already, so they start as transferred.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 07:50:51.048185
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('hotline', sa.Enum('110', '12345', name='api_client_hotline', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_clients')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_clients_key_hash')),
    sa.UniqueConstraint('name', name=op.f('uq_api_clients_name'))
    )
    op.create_table('transfers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('call_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('destination', sa.String(length=48), nullable=False),
    sa.Column('suggested', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('suggested_destination', sa.String(length=48), nullable=True),
    sa.Column('overridden', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('corrected_label', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('api_client_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_transfers_actor_id_users')),
    sa.ForeignKeyConstraint(['api_client_id'], ['api_clients.id'], name=op.f('fk_transfers_api_client_id_api_clients')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_transfers_call_id_calls')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_transfers_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfers')),
    sa.UniqueConstraint('call_id', name=op.f('uq_transfers_call_id'))
    )
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfers_ticket_id'), ['ticket_id'], unique=False)

    # Plain ADD COLUMNs, no batch: rebuilding calls on SQLite would have to drop a table that
    # tickets reference, which the enforced foreign keys refuse once tickets exist. So SQLite
    # gets no CHECK on status (the model validates it), and calls.api_client_id has no foreign
    # key on either backend (transfers.api_client_id carries one).
    op.add_column('calls', sa.Column('status', sa.String(length=32), server_default='transferred', nullable=False))
    if op.get_bind().dialect.name != 'sqlite':
        op.create_check_constraint('call_status', 'calls', sa.column('status').in_(['queued', 'transferred']))
    op.add_column('calls', sa.Column('routing', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
    op.add_column('calls', sa.Column('api_client_id', sa.Integer(), nullable=True))
    op.add_column('calls', sa.Column('external_id', sa.String(length=64), nullable=True))
    op.add_column('calls', sa.Column('idempotency_key', sa.String(length=200), nullable=True))
    op.add_column('calls', sa.Column('request_hash', sa.String(length=64), nullable=True))
    op.create_index('ix_calls_status_received_at', 'calls', ['status', 'received_at'], unique=False)
    op.create_index('ix_calls_idempotency_key', 'calls', ['idempotency_key'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_calls_idempotency_key', table_name='calls')
    op.drop_index('ix_calls_status_received_at', table_name='calls')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_calls_call_status'), 'calls', type_='check')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('request_hash')
        batch_op.drop_column('idempotency_key')
        batch_op.drop_column('external_id')
        batch_op.drop_column('api_client_id')
        batch_op.drop_column('routing')
        batch_op.drop_column('status')

    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfers_ticket_id'))

    op.drop_table('transfers')
    op.drop_table('api_clients')
