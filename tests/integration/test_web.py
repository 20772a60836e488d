"""The web app: factory, log-in, scoping, pages."""

from __future__ import annotations

import re

import pytest

from hotline import create_app
from hotline.domain.lifecycle import TicketState
from tests.factories import PASSWORD


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def test_create_app_runs_no_queries(tmp_path) -> None:
    # An unreachable database must not matter until a request needs it.
    app = create_app({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "SECRET_KEY": "x"})
    assert app.config["DATABASE_URL"].endswith("/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert app.test_client().get("/readyz").status_code == 503


def test_readyz_with_a_database(client) -> None:
    assert client.get("/readyz").json == {"status": "ready"}


def test_pages_need_login(client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_wrong_password_and_unknown_user_look_the_same(client, city) -> None:
    wrong = login(client, "taker", "not the password").get_data(as_text=True)
    unknown = login(client, "nobody", "not the password").get_data(as_text=True)
    assert "用户名或密码错误" in wrong and "用户名或密码错误" in unknown
    assert client.get("/").status_code == 302


def test_login_then_dashboard_counts_states(client, city) -> None:
    city.dispatched()
    city.new_ticket()
    city.db.commit()
    response = login(client, "boss")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "工单总览" in page
    for state in TicketState:
        assert f'data-state="{state.value}"' in page
    assert re.search(r"待签收 <b>1</b>", page) and re.search(r"已受理 <b>1</b>", page)


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "/\t/evil.example/", "/\\evil.example", "https://evil.example/", "x"],
)
def test_open_redirect_is_refused(client, city, target) -> None:
    city.db.commit()
    response = client.post(
        "/login", query_string={"next": target}, data={"username": "boss", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_local_next_is_kept(client, city) -> None:
    city.db.commit()
    response = client.post(
        "/login?next=/tickets/1", data={"username": "boss", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/tickets/1"


def test_ticket_page_shows_timeline_and_masks_phone_for_agency(client, city) -> None:
    ticket = city.signed(caller_number="13812345678", caller_name="王先生")
    city.db.commit()
    login(client, "hstaff")
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert ticket.number in page
    assert "138****5678" in page and "13812345678" not in page
    assert page.count('data-action="') == 3  # create, dispatch, sign_for


def test_confidential_caller_is_hidden(client, city) -> None:
    ticket = city.dispatched(
        caller_number="13812345678", caller_name="李女士", is_confidential=True
    )
    city.db.commit()
    login(client, "hstaff")
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "保密工单" in page and "李女士" not in page and "5678" not in page
    # The 12345 side calls back for the follow-up, so it sees who called, marked confidential.
    client.post("/logout")
    login(client, "boss")
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "保密工单" in page and "李女士" in page and "13812345678" in page


def test_other_agency_gets_404(client, city) -> None:
    ticket = city.dispatched()
    city.db.commit()
    login(client, "ustaff")
    assert client.get(f"/tickets/{ticket.id}").status_code == 404
    assert ticket.summary not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "query", ["?state=bogus", "?page=0", "?page=%C2%B2", "?page=99999999999999999999999"]
)
def test_bad_filters_are_a_400(client, city, query) -> None:
    city.db.commit()
    login(client, "boss")
    assert client.get("/" + query).status_code == 400


def test_login_form_needs_csrf_when_enabled(app, city) -> None:
    city.db.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/login", data={"username": "boss", "password": PASSWORD})
    assert response.status_code == 400


def test_not_found_is_a_chinese_page_and_json_for_api_clients(client, city) -> None:
    city.db.commit()
    login(client, "boss")
    page = client.get("/tickets/424242")
    assert page.status_code == 404 and "不存在" in page.get_data(as_text=True)
    api = client.get("/tickets/424242", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.json["message"]


def test_unexpected_errors_do_not_leak_a_trace(app, client, city, monkeypatch) -> None:
    city.db.commit()
    login(client, "boss")

    def boom(*_a, **_k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("hotline.services.queries.state_counts", boom)
    response = client.get("/")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "系统内部错误" in body and "secret internals" not in body and "Traceback" not in body


def test_supervisors_see_the_calendar_warning_agency_staff_do_not(client, city, clock) -> None:
    from datetime import UTC, datetime

    city.db.commit()
    clock.set(datetime(2026, 11, 22, 2, 0, tzinfo=UTC))
    login(client, "boss")
    assert "2026-12-31 到期" in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(client, "hstaff")
    assert "data-calendar-warning" not in client.get("/").get_data(as_text=True)


def test_huge_ticket_ids_are_not_found(client, city) -> None:
    city.db.commit()
    login(client, "boss")
    assert client.get("/tickets/99999999999999999999999").status_code == 404


def test_a_request_without_a_user_never_acts_as_the_system(app) -> None:
    from werkzeug.exceptions import Unauthorized

    from hotline.web import request_context

    with app.test_request_context("/"), pytest.raises(Unauthorized):
        request_context()


def test_dashboard_marks_deadlines_green_yellow_red_from_the_clock(client, city, clock) -> None:
    from datetime import timedelta

    ticket = city.dispatched()  # sign-for due end of next working day
    city.db.commit()
    login(client, "boss")

    def level() -> str:
        page = client.get("/").get_data(as_text=True)
        return re.search(r'data-level="(\w+)"', page).group(1)

    assert level() == "green"
    clock.set(ticket.sign_for_due_at - timedelta(hours=2))
    assert level() == "yellow"
    clock.set(ticket.sign_for_due_at + timedelta(seconds=1))
    assert level() == "red"


def test_a_broken_policy_file_stops_start_up_naming_the_place(tmp_path) -> None:
    from hotline.domain.errors import ValidationError

    bad = tmp_path / "policies.yaml"
    bad.write_text(
        "default: g\npolicies:\n  g:\n    clocks:\n      reply: {amount: -1, unit: days}\n"
    )
    with pytest.raises(ValidationError, match=r"policies\.g\.clocks\.reply\.amount"):
        create_app(
            {
                "SECRET_KEY": "x",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                "DEADLINE_POLICIES": str(bad),
            }
        )


def test_ticket_page_merges_sweep_alerts_into_the_timeline(client, city, clock) -> None:
    from datetime import datetime

    from hotline.domain.calendar import WorkingCalendar
    from hotline.domain.clock import CHINA_TZ
    from hotline.jobs.sweep import tick

    ticket = city.dispatched()  # Tuesday 10 March 09:30; sign-for due Wednesday 23:59:59
    city.db.commit()
    tick(city.db, datetime(2026, 3, 12, 0, 5, tzinfo=CHINA_TZ), WorkingCalendar.chinese())
    clock.set(datetime(2026, 3, 12, 8, tzinfo=CHINA_TZ))
    login(client, "boss")
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    kinds = re.findall(r'data-(action|alert)="(\w+)"', page)
    assert [k for _, k in kinds] == ["create", "dispatch", "warning", "overdue"]
    assert "一般事项" in page and 'class="level level-red"' in page
