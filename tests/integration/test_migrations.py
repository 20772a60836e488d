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


@BACKENDS
def test_upgrade_to_0002_puts_running_clocks_in_front_of_the_sweep(fresh_backend) -> None:
    with fresh_backend.engine.begin() as conn:
        migrate.downgrade(connection=conn, revision="0001")
        conn.execute(
            sa.text(
                "INSERT INTO agencies (id, code, name, kind, is_active, created_at) "
                "VALUES (1, 'a', 'A', 'government', true, :t)"
            ),
            {"t": "2026-03-10 01:00:00+00:00"},
        )
        conn.execute(
            sa.text(
                "INSERT INTO calls (id, hotline, channel, transcript, received_at, nature, "
                "urgency, is_confidential, created_at) VALUES (1, '12345', 'phone', '路灯坏了', "
                ":t, 'help', 'normal', false, :t)"
            ),
            {"t": "2026-03-10 01:00:00+00:00"},
        )
        for ticket_id, due in ((1, "2026-03-11 15:59:59+00:00"), (2, None)):
            conn.execute(
                sa.text(
                    "INSERT INTO tickets (id, call_id, direction, source_hotline, summary, "
                    "priority_rank, state, is_open, lead_agency_id, created_at, updated_at, "
                    "dispatched_at, next_due_at, version) VALUES (:id, 1, 'internal', '12345', "
                    "'路灯', 2, :state, :open, 1, :t, :t, :t, :due, 2)"
                ),
                {
                    "id": ticket_id,
                    "state": "dispatched" if due else "closed",
                    "open": bool(due),
                    "t": "2026-03-10 01:30:00+00:00",
                    "due": due,
                },
            )
        migrate.upgrade(connection=conn)
        rows = dict(conn.execute(sa.text("SELECT id, next_alert_at FROM tickets")).all())
    assert rows[1] is not None and rows[2] is None
