"""A database that is down, or cannot take writes, answers 503 with Retry-After and a Chinese
message (JSON for the API, a stand-alone page for people), never a 500 with a stack trace; the
request leaves nothing behind, and the same request succeeds once the database is back."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from hotline.models import Call, Ticket
from hotline.services.exchange import create_client
from hotline.web.errors import DB_BUSY, DB_READ_ONLY, DB_UNAVAILABLE, database_trouble
from tests.integration.test_web import login

WELL = {"transcript": "小区门口井盖松动了", "external_id": "JJ-9"}
WRITES = ("INSERT", "UPDATE", "DELETE")


class Fault:
    """Makes the test connection fail, as a dead server or a read-only file would."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.error: BaseException | None = None
        self.only_writes = False
        self.raised = 0
        event.listen(connection, "before_cursor_execute", self._before)

    def _before(self, _conn, _cursor, statement: str, params, _context, _many) -> None:
        if self.error is None:
            return
        if self.only_writes and not statement.lstrip().upper().startswith(WRITES):
            return
        self.raised += 1
        raise sa.exc.OperationalError(statement, params, self.error)

    def server_gone(self) -> None:
        self.error, self.only_writes = (
            psycopg.OperationalError("server closed the connection"),
            False,
        )

    def read_only(self) -> None:
        self.error = sqlite3.OperationalError("attempt to write a readonly database")
        self.only_writes = True

    def heal(self) -> None:
        self.error = None

    def remove(self) -> None:
        event.remove(self.connection, "before_cursor_execute", self._before)


@pytest.fixture
def fault(connection: sa.Connection) -> Iterator[Fault]:
    fault = Fault(connection)
    yield fault
    fault.remove()


@pytest.fixture
def api_key(desk) -> str:
    _, key = create_client(desk.ctx(desk.admin), name="110接处警系统", hotline="110")
    desk.db.commit()
    return key


def push(client, key: str, idem: str = "outage-1"):
    return client.post(
        "/api/v1/calls", json=WELL, headers={"X-API-Key": key, "Idempotency-Key": idem}
    )


def count(db, model) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_api_answers_503_with_retry_after_and_a_retry_succeeds(
    routed_app, desk, api_key, fault
) -> None:
    client = routed_app.test_client()
    fault.server_gone()
    down = push(client, api_key)
    assert down.status_code == 503
    assert down.headers["Retry-After"] == "5"
    assert down.json["error"] == "database_unavailable"
    assert down.json["message"] == DB_UNAVAILABLE and down.json["request_id"]
    assert fault.raised >= 1
    fault.heal()
    assert count(desk.db, Call) == 0  # the failed request left nothing
    up = push(client, api_key)
    assert up.status_code == 201, up.json
    assert push(client, api_key).status_code == 200  # the retry finds the same call
    assert count(desk.db, Ticket) == 1


def test_a_person_gets_a_chinese_page_not_a_stack_trace(app, city, fault) -> None:
    client = app.test_client()
    assert login(client, "taker").status_code == 302
    fault.server_gone()
    page = client.get("/")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    text = page.get_data(as_text=True)
    assert DB_UNAVAILABLE in text and "Traceback" not in text
    assert page.mimetype == "text/html"
    fault.heal()
    assert client.get("/").status_code == 200


def test_a_read_only_database_refuses_writes_clearly_and_still_reads(
    routed_app, desk, api_key, fault
) -> None:
    client = routed_app.test_client()
    first = push(client, api_key, "before")
    assert first.status_code == 201
    call_id = first.json["call_id"]
    fault.read_only()
    refused = push(client, api_key, "during")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert refused.json == {
        "error": "database_read_only",
        "message": DB_READ_ONLY,
        "request_id": refused.json["request_id"],
    }
    read = client.get(f"/api/v1/calls/{call_id}", headers={"X-API-Key": api_key})
    assert read.status_code == 200 and read.json["call_id"] == call_id
    fault.heal()
    assert count(desk.db, Call) == 1
    assert push(client, api_key, "during").status_code == 201


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (psycopg.OperationalError("connection refused"), DB_UNAVAILABLE),
        (psycopg.InterfaceError("the connection is closed"), DB_UNAVAILABLE),
        (sqlite3.OperationalError("attempt to write a readonly database"), DB_READ_ONLY),
        (sqlite3.OperationalError("database or disk is full"), DB_READ_ONLY),
        (sqlite3.OperationalError("unable to open database file"), DB_READ_ONLY),
        (sqlite3.OperationalError("database is locked"), DB_BUSY),  # a busy writer: retry
        (sqlite3.OperationalError("no such table: calls"), None),  # a bug, not an outage
        (sqlite3.IntegrityError("UNIQUE constraint failed"), None),
        (ValueError("nothing to do with the database"), None),
    ],
)
def test_which_errors_mean_the_database_is_unavailable(error, expected) -> None:
    wrapped = sa.exc.OperationalError("SELECT 1", {}, error)
    assert (
        database_trouble(wrapped if isinstance(error, sqlite3.Error | psycopg.Error) else error)
        == expected
    )
    assert database_trouble(error) == expected


def test_a_disconnection_is_an_outage() -> None:
    assert database_trouble(sa.exc.DisconnectionError("pool pre-ping failed")) == DB_UNAVAILABLE


def test_a_lost_sqlite_write_race_outside_the_ticket_service_says_retry(
    routed_app, desk, api_key, fault
) -> None:
    # An API push whose transaction read before another worker committed cannot write on
    # SQLite ("database is locked"): nothing was written, and a retry with the same key works.
    fault.error, fault.only_writes = sqlite3.OperationalError("database is locked"), True
    client = routed_app.test_client()
    busy = push(client, api_key)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
    assert busy.json["error"] == "database_busy" and busy.json["message"] == DB_BUSY
    fault.heal()
    assert push(client, api_key).status_code == 201
    assert count(desk.db, Ticket) == 1


def test_a_statement_error_is_still_a_500(routed_app, desk, api_key, fault) -> None:
    fault.error = sqlite3.OperationalError("no such table: calls")
    answer = push(routed_app.test_client(), api_key)
    assert answer.status_code == 500 and "Retry-After" not in answer.headers
