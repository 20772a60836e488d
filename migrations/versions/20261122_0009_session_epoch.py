"""users.session_epoch: log-out ends the user's sessions, copies of the cookie included.

Sessions are signed cookies; without a server-side fact that changes at log-out, a copied
cookie stayed valid until its idle or absolute limit (found by the security drill).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("users", "session_epoch")
