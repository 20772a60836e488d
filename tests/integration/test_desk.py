"""The call-taker desk's endpoints: suggest without saving, transfer once per page, overrides
need a reason, the queue and the caller's history, and who may use the desk."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hotline.models import Call, Ticket, Transfer
from hotline.services.exchange import create_client
from tests.integration.test_web import login

CALL = {
    "hotline": "110",
    "transcript": "小区门口井盖松动了",
    "caller_number": "13800001111",
    "nature": "help",
    "urgency": "normal",
}


@pytest.fixture
def web(routed_app, desk):
    client = routed_app.test_client()
    login(client, "taker")
    return client


def count(desk, model) -> int:
    return desk.db.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_page_focuses_the_transcript_and_shows_the_shortcuts(web) -> None:
    html = web.get("/desk/").get_data(as_text=True)
    assert 'id="transcript"' in html and "autofocus" in html
    assert "Alt+T" in html and "Alt+O" in html and "Ctrl+Enter" in html
    assert 'value="12345:housing"' in html  # every agency is a destination for an override


def test_a_suggestion_saves_nothing(web, desk) -> None:
    response = web.post("/desk/route", json=CALL)
    assert response.status_code == 200
    body = response.json
    assert body["destination"] == "12345:housing" and body["destination_label"] == "12345 → 住建局"
    assert body["decision_label"] == "非警情" and body["rules"] == ["MANHOLE"]
    assert count(desk, Call) == 0


def test_one_key_transfers_once_however_often_it_is_pressed(web, desk) -> None:
    body = {**CALL, "idempotency_key": "page-1"}
    first = web.post("/desk/transfer", json=body)
    assert first.status_code == 201, first.json
    assert first.json["ticket_number"].startswith("GD") and not first.json["overridden"]
    again = web.post("/desk/transfer", json=body)
    assert again.status_code == 200 and again.json["replayed"]
    assert again.json["ticket_id"] == first.json["ticket_id"]
    assert (count(desk, Call), count(desk, Ticket)) == (1, 1)


def test_an_override_without_a_reason_is_refused_and_saves_nothing(web, desk) -> None:
    body = {**CALL, "idempotency_key": "page-2", "destination": "110"}
    refused = web.post("/desk/transfer", json=body)
    assert refused.status_code == 422 and refused.json["field"] == "reason"
    assert count(desk, Call) == 0
    accepted = web.post("/desk/transfer", json={**body, "reason": "井盖被盗，需民警到场"})
    assert accepted.status_code == 201 and accepted.json["overridden"]
    transfer = desk.db.scalar(sa.select(Transfer))
    assert transfer.override_reason == "井盖被盗，需民警到场"


def test_a_review_call_needs_a_destination(web, desk) -> None:
    body = {**CALL, "transcript": "说不清楚", "idempotency_key": "page-3"}
    refused = web.post("/desk/transfer", json=body)
    assert refused.status_code == 422 and refused.json["field"] == "destination"
    chosen = web.post("/desk/transfer", json={**body, "destination": "12345:urban"})
    assert chosen.status_code == 201 and chosen.json["destination_label"] == "12345 → 城管局"


def test_the_queue_shows_pushed_calls_and_one_is_transferred_from_it(web, routed_app, desk) -> None:
    _, key = create_client(desk.ctx(desk.admin), name="12345系统", hotline="12345")
    pushed = routed_app.test_client().post(
        "/api/v1/calls",
        json={"transcript": "<b>说不清</b>的事", "caller_number": "13900002222"},
        headers={"X-API-Key": key, "Idempotency-Key": "q-1"},
    )
    assert pushed.status_code == 202
    [queued] = web.get("/desk/queue").json
    assert (
        queued["transcript"] == "<b>说不清</b>的事"
        and queued["suggestion"]["destination"] == "review"
    )
    done = web.post(f"/desk/calls/{queued['id']}/transfer", json={"destination": "110"})
    assert done.status_code == 201
    assert web.get("/desk/queue").json == []


def test_the_caller_history_shows_recent_calls_and_open_tickets(web, desk) -> None:
    web.post("/desk/transfer", json={**CALL, "idempotency_key": "h-1"})
    history = web.get("/desk/caller?number=13800001111").json
    assert [c["transcript"] for c in history["recent_calls"]] == [CALL["transcript"]]
    assert len(history["open_tickets"]) == 1
    assert web.get("/desk/caller?number=13999999999").json["open_tickets"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CALL, "transcript": "  "}, "transcript"),
        ({**CALL, "transcript": 5}, "transcript"),
        ({**CALL, "urgency": "whenever"}, "urgency"),
        ({**CALL, "caller_number": "not a number"}, "caller_number"),
        ({**CALL, "transcript": "字" * 20_001}, "transcript"),
    ],
)
def test_bad_input_is_a_clear_error(web, desk, body, field) -> None:
    response = web.post("/desk/transfer", json={**body, "idempotency_key": "bad"})
    assert response.status_code == 422 and response.json["field"] == field
    assert count(desk, Call) == 0


def test_agency_staff_cannot_use_the_desk(routed_app, desk) -> None:
    client = routed_app.test_client()
    login(client, "hstaff")
    assert client.get("/desk/").status_code == 403
    assert client.post("/desk/transfer", json={**CALL, "idempotency_key": "x"}).status_code == 403
