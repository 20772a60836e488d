"""ix_tickets_open_state: the 12345 side's counts of open tickets per state, index-only.

benchmarks/workbench_pages.py at 1M tickets: counting the ~40,000 open tickets by state read
each row from the table (140 ms of the supervisor's inbox); this partial index holds only them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = {"postgresql_where": sa.text("is_open IS TRUE"), "sqlite_where": sa.text("is_open IS 1")}


def upgrade() -> None:
    op.create_index("ix_tickets_open_state", "tickets", ["state"], **OPEN)


def downgrade() -> None:
    op.drop_index("ix_tickets_open_state", table_name="tickets")
