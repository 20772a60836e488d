"""The Alembic migrations must produce exactly the schema the models declare, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hotline import migrate
from hotline.models import Base

BACKENDS = pytest.mark.parametrize("fresh_backend", ["sqlite", "postgresql"], indirect=True)


@BACKENDS
def test_migrations_match_models(fresh_backend) -> None:
    with fresh_backend.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


@BACKENDS
def test_schema_has_the_hot_path_indexes(fresh_backend) -> None:
    inspector = sa.inspect(fresh_backend.engine)
    indexes = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("tickets")}
    assert indexes["ix_tickets_inbox"] == [
        "lead_agency_id",
        "is_open",
        "priority_rank",
        "next_due_at",
    ]
    assert indexes["ix_tickets_next_due_at"] == ["next_due_at", "id"]
    uniques = inspector.get_unique_constraints("ticket_events")
    assert {"ticket_id", "seq"} in [set(u["column_names"]) for u in uniques]


@BACKENDS
def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(fresh_backend) -> None:
    with fresh_backend.engine.begin() as conn:
        migrate.downgrade(connection=conn, revision="base")
    assert set(sa.inspect(fresh_backend.engine).get_table_names()) <= {"alembic_version"}
    with fresh_backend.engine.begin() as conn:
        migrate.upgrade(connection=conn)
    names = set(sa.inspect(fresh_backend.engine).get_table_names())
    assert names >= {"agencies", "users", "calls", "tickets", "ticket_agencies", "ticket_events"}
