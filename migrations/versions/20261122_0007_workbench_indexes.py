"""Workbench indexes for 1,000,000 tickets: an agency's state counts, the open-ticket queue.

Measured with benchmarks/workbench_pages.py (docs/benchmarks.md, "Workbench pages at 1M
tickets"): the agency's state counts scanned every ticket, the 12345 side's queue read all
tickets to find the ~4 % open ones, and the level counts and filter menus visited the heap
once per open ticket. The two partial indexes hold only open tickets, so they stay small.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 08:56:10.623765
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled as the queries spell it (Ticket.is_open.is_(True)): PostgreSQL only uses a partial
# index when it can prove the query's condition implies the index's, and "is_open IS TRUE"
# does not imply a bare "is_open" to its planner.
OPEN = {"postgresql_where": sa.text("is_open IS TRUE"), "sqlite_where": sa.text("is_open IS 1")}


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tickets_lead_agency_id_state", ["lead_agency_id", "state"], unique=False
        )
        batch_op.create_index(
            "ix_tickets_open_queue", ["priority_rank", "next_due_at", "id"], unique=False, **OPEN
        )
        batch_op.create_index(
            "ix_tickets_open_scope",
            [
                "lead_agency_id",
                "category_level1",
                "call_id",
                "next_due_at",
                "dispatched_at",
                "created_at",
            ],
            unique=False,
            **OPEN,
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_open_scope")
        batch_op.drop_index("ix_tickets_open_queue")
        batch_op.drop_index("ix_tickets_lead_agency_id_state")
