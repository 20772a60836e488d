"""The call's district on the ticket, so the inbox filters and its menu read one index.

Measured with benchmarks/workbench_pages.py at 1M tickets: filtering or listing districts
through calls cost one calls lookup per open ticket (40–120 ms for an agency, 270–360 ms for
the 12345 side). The district now sits in ix_tickets_open_scope in place of call_id.

Plain statements, no batch: rebuilding tickets on SQLite would have to drop a table that
events and transfers reference.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 09:24:17.327330
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = {"postgresql_where": sa.text("is_open IS TRUE"), "sqlite_where": sa.text("is_open IS 1")}
SCOPE = ["lead_agency_id", "category_level1", "{}", "next_due_at", "dispatched_at", "created_at"]


def _scope(column: str) -> list[str]:
    return [column if c == "{}" else c for c in SCOPE]


def upgrade() -> None:
    op.add_column("tickets", sa.Column("district", sa.String(length=50), nullable=True))
    op.execute(
        "UPDATE tickets SET district = (SELECT calls.district FROM calls "
        "WHERE calls.id = tickets.call_id)"
    )
    op.drop_index("ix_tickets_open_scope", table_name="tickets")
    op.create_index("ix_tickets_open_scope", "tickets", _scope("district"), **OPEN)


def downgrade() -> None:
    op.drop_index("ix_tickets_open_scope", table_name="tickets")
    op.create_index("ix_tickets_open_scope", "tickets", _scope("call_id"), **OPEN)
    op.drop_column("tickets", "district")
