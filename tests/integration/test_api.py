"""The transfer API: per-system keys, idempotent pushes, status feedback, clear errors, and an
OpenAPI description that validates."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from openapi_spec_validator import validate

from hotline.models import Call, Ticket
from hotline.services import tickets
from hotline.services.exchange import create_client, revoke_client

WELL = {"transcript": "小区门口井盖松动了", "external_id": "JJ-001", "caller_number": "13800001111"}


@pytest.fixture
def api(routed_app, desk):
    ctx = desk.ctx(desk.admin)
    client, key = create_client(ctx, name="110接处警系统", hotline="110")
    other, other_key = create_client(ctx, name="邻市系统", hotline="12345")
    web = routed_app.test_client()

    class Api:
        def post(self, body, key_: str | None = key, idem: str | None = "idem-1", **kw):
            headers = {}
            if key_ is not None:
                headers["X-API-Key"] = key_
            if idem is not None:
                headers["Idempotency-Key"] = idem
            return web.post("/api/v1/calls", json=body, headers=headers, **kw)

        def get(self, path, key_: str | None = key):
            return web.get(path, headers={"X-API-Key": key_} if key_ else {})

    api = Api()
    api.key, api.other_key, api.client, api.other, api.web = key, other_key, client, other, web
    return api


def tickets_count(desk) -> int:
    return desk.db.scalar(sa.select(sa.func.count()).select_from(Ticket))


def test_a_pushed_call_becomes_a_ticket_and_a_retry_returns_the_same(api, desk) -> None:
    first = api.post(WELL)
    assert first.status_code == 201, first.json
    body = first.json
    assert body["status"] == "transferred" and body["external_id"] == "JJ-001"
    assert body["ticket"]["lead_agency"] == "housing"
    assert body["ticket"]["direction"] == "110_to_12345"
    assert body["routing"]["rules"] == ["MANHOLE"]
    again = api.post(WELL)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json["ticket"]["id"] == body["ticket"]["id"]
    changed = api.post({**WELL, "transcript": "井盖不见了"})
    assert changed.status_code == 409 and changed.json["error"] == "idempotency_conflict"
    assert tickets_count(desk) == 1


def test_the_same_key_from_two_systems_is_two_calls(api, desk) -> None:
    assert api.post(WELL).status_code == 201
    assert api.post(WELL, key_=api.other_key).status_code == 201
    assert tickets_count(desk) == 2


def test_a_call_for_review_waits_on_the_desk(api, desk) -> None:
    response = api.post({"transcript": "我也说不清楚是什么事"})
    assert response.status_code == 202
    assert response.json["status"] == "queued" and response.json["ticket"] is None
    assert tickets_count(desk) == 0


def test_status_feedback_follows_the_ticket(api, desk) -> None:
    ticket_id = api.post(WELL).json["ticket"]["id"]
    desk.later(minutes=20)
    tickets.sign_for(desk.ctx(desk.housing_staff), ticket_id)
    desk.later(hours=2)
    tickets.reply(
        desk.ctx(desk.housing_staff),
        ticket_id,
        contacted_caller=True,
        resolved=True,
        reply_text="已加固井盖",
    )
    page = api.get("/api/v1/feedback").json
    assert [i["status"] for i in page["items"]] == ["received", "signed", "replied"]
    assert page["items"][-1]["note"] == "已加固井盖"
    assert page["items"][0]["external_id"] == "JJ-001"
    rest = api.get(f"/api/v1/feedback?after={page['items'][0]['cursor']}").json
    assert [i["status"] for i in rest["items"]] == ["signed", "replied"]
    assert rest["next_cursor"] == page["next_cursor"]
    # Another system hears nothing about this call and cannot read it.
    assert api.get("/api/v1/feedback", key_=api.other_key).json["items"] == []
    call_id = desk.db.scalar(sa.select(Call.id))
    assert api.get(f"/api/v1/calls/{call_id}").json["ticket"]["state"] == "replied"
    assert api.get(f"/api/v1/calls/{call_id}", key_=api.other_key).status_code == 404


@pytest.mark.parametrize(
    ("key", "idem", "body", "status", "error"),
    [
        (None, "i", WELL, 401, "unauthorized"),
        ("hk_not-a-key", "i", WELL, 401, "unauthorized"),
        ("KEY", None, WELL, 400, "missing_idempotency_key"),
        ("KEY", " ", WELL, 422, "validation_error"),
        ("KEY", "i", {}, 422, "validation_error"),
        ("KEY", "i", {"transcript": 12}, 422, "validation_error"),
        ("KEY", "i", {"transcript": "x", "is_confidential": "yes"}, 422, "validation_error"),
        ("KEY", "i", {"transcript": "x", "agency": "police"}, 422, "validation_error"),
        ("KEY", "i", {"transcript": "x", "urgency": "very"}, 422, "validation_error"),
        (
            "KEY",
            "i",
            {"transcript": "x", "received_at": "2026-03-10T09:00"},
            422,
            "validation_error",
        ),
        (
            "KEY",
            "i",
            {"transcript": "x", "received_at": "2099-01-01T00:00Z"},
            422,
            "validation_error",
        ),
        ("KEY", "i", {"transcript": "x", "caller_number": "call me"}, 422, "validation_error"),
        ("KEY", "i", {"transcript": "字" * 20_001}, 422, "validation_error"),
        ("KEY", "i", {"transcript": "   "}, 422, "validation_error"),
        ("KEY", "i", ["transcript"], 422, "validation_error"),
    ],
)
def test_bad_requests_get_clear_errors_and_change_nothing(
    api, desk, key, idem, body, status, error
) -> None:
    response = api.post(body, key_=api.key if key == "KEY" else key, idem=idem)
    assert (response.status_code, response.json["error"]) == (status, error), response.json
    assert response.json["message"]
    assert desk.db.scalar(sa.select(sa.func.count()).select_from(Call)) == 0


def test_the_field_at_fault_is_named(api) -> None:
    response = api.post({"transcript": "x", "urgency": "very"})
    assert response.json["field"] == "urgency"


def test_a_body_that_is_not_json_is_refused(api) -> None:
    response = api.web.post(
        "/api/v1/calls",
        data="<xml/>",
        headers={"X-API-Key": api.key, "Idempotency-Key": "i", "Content-Type": "text/xml"},
    )
    assert response.status_code == 400 and response.json["error"] == "not_json"
    broken = api.web.post(
        "/api/v1/calls",
        data="{",
        headers={"X-API-Key": api.key, "Idempotency-Key": "i", "Content-Type": "application/json"},
    )
    assert broken.status_code == 422


def test_a_revoked_key_stops_working(api, desk) -> None:
    revoke_client(desk.ctx(desk.admin), "110接处警系统")
    refused = api.post(WELL)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'ApiKey header="X-API-Key"'


def test_markup_is_stored_and_returned_as_text(api, desk) -> None:
    text = '<img src=x onerror="alert(1)">井盖坏了'
    assert api.post({"transcript": text}).status_code == 201
    assert desk.db.scalar(sa.select(Call.transcript)) == text


def test_feedback_cursor_must_be_a_number(api) -> None:
    assert api.get("/api/v1/feedback?after=-1").status_code == 422
    assert api.get("/api/v1/feedback?limit=100000").status_code == 422


def test_the_openapi_description_is_served_without_a_key_and_validates(api) -> None:
    response = api.web.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    validate(document)
    assert set(document["paths"]) >= {"/api/v1/calls", "/api/v1/feedback"}
    fields = document["components"]["schemas"]["CallPush"]["properties"]
    assert "transcript" in fields and "external_id" in fields
