"""Ticket store: agencies, users, calls, tickets, ticket agencies and the append-only event log.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 05:14:40.958269
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('hotline_center', 'police', 'emergency', 'government', 'district', 'community', 'utility', 'other', name='agency_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('district', sa.String(length=50), nullable=True),
    sa.Column('contact_name', sa.String(length=50), nullable=True),
    sa.Column('contact_phone', sa.String(length=24), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['agencies.id'], name=op.f('fk_agencies_parent_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('code', name=op.f('uq_agencies_code')),
    sa.UniqueConstraint('name', name=op.f('uq_agencies_name'))
    )
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agencies_parent_id'), ['parent_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.Enum('call_taker', 'agency_staff', 'supervisor', 'admin', 'system', name='user_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role <> 'agency_staff' OR agency_id IS NOT NULL", name=op.f('ck_users_agency_staff_has_agency')),
    sa.CheckConstraint("role <> 'system'", name=op.f('ck_users_no_login_for_system')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_users_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_agency_id'), ['agency_id'], unique=False)

    op.create_table('calls',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hotline', sa.Enum('110', '12345', name='hotline', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('channel', sa.Enum('phone', 'online', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('caller_number', sa.String(length=24), nullable=True),
    sa.Column('caller_name', sa.String(length=50), nullable=True),
    sa.Column('location_text', sa.String(length=200), nullable=True),
    sa.Column('district', sa.String(length=50), nullable=True),
    sa.Column('transcript', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('nature', sa.Enum('consultation', 'help', 'complaint', 'report', 'suggestion', name='nature', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('urgency', sa.Enum('normal', 'urgent', 'critical', name='urgency', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('is_confidential', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_calls_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calls'))
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calls_caller_number'), ['caller_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_received_at'), ['received_at'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('call_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('direction', sa.Enum('110_to_12345', '12345_to_110', 'internal', name='direction', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('source_hotline', sa.Enum('110', '12345', name='source_hotline', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('category_level1', sa.String(length=32), nullable=True),
    sa.Column('category_level2', sa.String(length=64), nullable=True),
    sa.Column('category_level3', sa.String(length=64), nullable=True),
    sa.Column('priority_rank', sa.SmallInteger(), nullable=False),
    sa.Column('state', sa.Enum('received', 'dispatched', 'return_requested', 'returned', 'signed', 'in_progress', 'extension_requested', 'suspension_requested', 'suspended', 'replied', 'awaiting_follow_up', 'followed_up', 'closed', 'archived', 'merged', name='ticket_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('lead_agency_id', sa.Integer(), nullable=True),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sign_for_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reply_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('extension_working_days', sa.Integer(), server_default='0', nullable=False),
    sa.Column('return_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reopen_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('satisfaction', sa.Enum('very_satisfied', 'satisfied', 'fairly_satisfied', 'dissatisfied', 'very_dissatisfied', name='satisfaction', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("is_open = (CASE WHEN state IN ('closed', 'archived', 'merged') THEN false ELSE true END)", name=op.f('ck_tickets_is_open_matches_state')),
    sa.CheckConstraint('priority_rank IN (2, 1, 0)', name=op.f('ck_tickets_priority_rank_known')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_tickets_version_positive')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_tickets_call_id_calls')),
    sa.ForeignKeyConstraint(['lead_agency_id'], ['agencies.id'], name=op.f('fk_tickets_lead_agency_id_agencies')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['tickets.id'], name=op.f('fk_tickets_merged_into_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_call_id'), ['call_id'], unique=False)
        batch_op.create_index('ix_tickets_inbox', ['lead_agency_id', 'is_open', 'priority_rank', 'next_due_at'], unique=False)
        batch_op.create_index('ix_tickets_next_due_at', ['next_due_at', 'id'], unique=False)

    op.create_table('ticket_agencies',
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('lead', 'assisting', 'informed', name='agency_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.CheckConstraint("role <> 'lead'", name=op.f('ck_ticket_agencies_lead_is_on_ticket')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_ticket_agencies_agency_id_agencies')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_agencies_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('ticket_id', 'agency_id', name=op.f('pk_ticket_agencies'))
    )
    with op.batch_alter_table('ticket_agencies', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_agencies_agency_id_role', ['agency_id', 'role'], unique=False)

    op.create_table('ticket_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.Enum('create', 'dispatch', 'answer_directly', 'sign_for', 'request_return', 'approve_return', 'reject_return', 'record_progress', 'request_extension', 'approve_extension', 'reject_extension', 'request_suspension', 'approve_suspension', 'reject_suspension', 'resume', 'reply', 'approve_reply', 'reject_reply', 'follow_up', 'close', 'reopen', 'archive', 'merge', 'chase', 'supervise', 'criticize', name='event_action', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('from_state', sa.Enum('received', 'dispatched', 'return_requested', 'returned', 'signed', 'in_progress', 'extension_requested', 'suspension_requested', 'suspended', 'replied', 'awaiting_follow_up', 'followed_up', 'closed', 'archived', 'merged', name='event_from_state', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('to_state', sa.Enum('received', 'dispatched', 'return_requested', 'returned', 'signed', 'in_progress', 'extension_requested', 'suspension_requested', 'suspended', 'replied', 'awaiting_follow_up', 'followed_up', 'closed', 'archived', 'merged', name='event_to_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.Enum('call_taker', 'agency_staff', 'supervisor', 'admin', 'system', name='event_actor_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_ticket_events_actor_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events')),
    sa.UniqueConstraint('ticket_id', 'seq', name=op.f('uq_ticket_events_ticket_id_seq'))
    )
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_events_action_occurred_at', ['action', 'occurred_at'], unique=False)

    _create_append_only_guard()


# The event log is the audit trail: the database itself refuses to change or delete a row,
# whatever client writes to it (the ORM has its own guard as well).
def _create_append_only_guard() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ticket_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'ticket_events is append-only (% refused)', TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )
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
        op.execute("DROP FUNCTION IF EXISTS ticket_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ticket_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS ticket_events_no_delete")



def downgrade() -> None:
    _drop_append_only_guard()
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_events_action_occurred_at')

    op.drop_table('ticket_events')
    with op.batch_alter_table('ticket_agencies', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_agencies_agency_id_role')

    op.drop_table('ticket_agencies')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_next_due_at')
        batch_op.drop_index('ix_tickets_inbox')
        batch_op.drop_index(batch_op.f('ix_tickets_call_id'))

    op.drop_table('tickets')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calls_received_at'))
        batch_op.drop_index(batch_op.f('ix_calls_caller_number'))

    op.drop_table('calls')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_agency_id'))

    op.drop_table('users')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agencies_parent_id'))

    op.drop_table('agencies')

