"""Bad input the bad-input drill (drills/bad_input.py) found answering 500 on the live stack."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.models import Call, LoginFailure
from tests.integration.test_web import login


def test_a_lone_surrogate_on_the_desk_is_refused_naming_the_field(routed_app, desk) -> None:
    web = routed_app.test_client()
    login(web, "taker")
    # Valid JSON, but "\ud800" is no character: it used to break the request's fingerprint.
    body = '{"idempotency_key": "k1", "transcript": "井盖松动", "caller_number": "138\\ud800"}'
    response = web.post("/desk/transfer", data=body, content_type="application/json")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.json["field"] == "caller_number"
    assert desk.db.scalar(sa.select(sa.func.count()).select_from(Call)) == 0


def test_a_nul_in_the_username_is_refused_before_the_database(client, city) -> None:
    # PostgreSQL refuses NUL in a query parameter: it used to answer 500 there.
    response = login(client, "boss\x00")
    assert response.status_code == 200
    assert "登录" in response.get_data(as_text=True)
    failures = city.db.scalar(sa.select(sa.func.count()).select_from(LoginFailure))
    assert failures == 0  # never reached the throttle's queries
