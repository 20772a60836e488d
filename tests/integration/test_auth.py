"""Log-in protection and sessions: throttling shared through the database, sessions that end
on the clock, on a password change or deactivation, and nothing kept from before a log-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from hotline import create_app
from hotline.models import LoginFailure, User
from hotline.services.directory import hash_password
from tests.factories import PASSWORD

LOCKED = "登录失败次数过多"


def login(client, username: str, password: str = PASSWORD, address: str = "127.0.0.1"):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def fail(client, username: str, times: int, address: str = "127.0.0.1") -> None:
    for _ in range(times):
        response = login(client, username, "not the password", address)
        assert response.status_code == 200 and "用户名或密码错误" in response.get_data(True)


def logged_in(client) -> bool:
    return client.get("/").status_code == 200


# --- one answer for every refusal ---------------------------------------------------------


def test_wrong_password_unknown_user_and_inactive_user_get_the_same_answer(client, city) -> None:
    city.housing_staff.is_active = False
    city.db.flush()
    answers = []
    for name in ("taker", "nobody", "hstaff"):
        response = login(client, name, "not the password")
        body = response.get_data(as_text=True).replace(f'value="{name}"', 'value="NAME"')
        answers.append((response.status_code, body))
    inactive_right_password = login(client, "hstaff")
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 200 and "用户名或密码错误" in answers[0][1]
    assert inactive_right_password.status_code == 200
    assert "用户名或密码错误" in inactive_right_password.get_data(as_text=True)
    assert not logged_in(client)


def test_an_unknown_name_is_checked_against_a_hash_too(client, city, monkeypatch) -> None:
    seen = []
    import hotline.web.auth as auth

    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda h, p: seen.append(h) or real(h, p))
    login(client, "nobody", "whatever")
    assert seen == [None]  # verify_password spends a stand-in hash check for it


def test_usernames_are_not_case_sensitive(client, city) -> None:
    assert login(client, "  Boss ").status_code == 302


# --- throttling -------------------------------------------------------------------------


def test_five_failures_lock_the_name_until_the_window_has_passed(client, city, clock) -> None:
    fail(client, "taker", 5)
    locked = login(client, "taker")  # even the right password
    body = locked.get_data(as_text=True)
    assert locked.status_code == 429
    assert "登录失败次数过多，请 15 分钟后再试" in body
    assert locked.headers["Retry-After"] == "900"
    clock.advance(minutes=10)
    assert "请 5 分钟后再试" in login(client, "taker").get_data(as_text=True)
    clock.advance(minutes=5)
    assert login(client, "taker").status_code == 302
    assert logged_in(client)


def test_four_failures_do_not_lock(client, city) -> None:
    fail(client, "taker", 4)
    assert login(client, "taker").status_code == 302


def test_the_window_slides(client, city, clock) -> None:
    fail(client, "taker", 3)
    clock.advance(minutes=10)
    fail(client, "taker", 2)
    assert login(client, "taker").status_code == 429
    clock.advance(minutes=5)  # the first three are out of the window: two remain
    assert login(client, "taker").status_code == 302


def test_unknown_names_are_locked_exactly_like_real_ones(client, city, clock) -> None:
    fail(client, "taker", 5)
    fail(client, "nobody", 5)
    real = login(client, "taker", "x")
    unknown = login(client, "nobody", "x")
    assert real.status_code == unknown.status_code == 429
    assert real.get_data(as_text=True).replace('value="taker"', "") == unknown.get_data(
        as_text=True
    ).replace('value="nobody"', "")


def test_a_locked_log_in_never_checks_the_password(client, city, monkeypatch) -> None:
    fail(client, "taker", 5)

    def must_not_run(*_args):
        raise AssertionError("password checked while locked")

    monkeypatch.setattr("hotline.web.auth.verify_password", must_not_run)
    assert login(client, "taker").status_code == 429


def test_attempts_while_locked_do_not_extend_the_lock(client, city, clock, db) -> None:
    fail(client, "taker", 5)
    for _ in range(10):
        clock.advance(minutes=1)
        assert login(client, "taker", "wrong").status_code == 429
    assert db.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 5
    clock.advance(minutes=5)
    assert login(client, "taker").status_code == 302


def test_the_lock_is_per_name(client, city) -> None:
    fail(client, "taker", 5)
    assert login(client, "taker").status_code == 429
    assert login(client, "boss").status_code == 302


def test_thirty_failures_from_one_address_lock_that_address(client, city, clock) -> None:
    for n in range(30):
        fail(client, f"guess{n}", 1, address="10.0.0.9")
    assert login(client, "boss", address="10.0.0.9").status_code == 429
    assert login(client, "boss", address="10.0.0.10").status_code == 302
    clock.advance(minutes=15)
    assert login(client, "boss", address="10.0.0.9").status_code == 302


def test_a_success_forgets_the_names_failures_and_old_rows(client, city, clock, db) -> None:
    db.add(
        LoginFailure(username="old", address="1.2.3.4", failed_at=clock.now() - timedelta(days=2))
    )
    db.flush()
    fail(client, "taker", 4)
    fail(client, "boss", 1)
    assert login(client, "taker").status_code == 302
    rows = db.execute(sa.select(LoginFailure.username)).scalars().all()
    assert rows == ["boss"]  # taker's four and the two-day-old row are gone
    fail(client, "taker", 4)
    assert login(client, "taker").status_code == 302


def test_failures_are_shared_by_every_worker(app, session_factory, clock, city) -> None:
    """Two apps (two gunicorn workers) on one database count the same failures."""
    other = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SESSION_FACTORY": session_factory,
            "CLOCK": clock,
            "WTF_CSRF_ENABLED": False,
        }
    )
    fail(app.test_client(), "taker", 3)
    fail(other.test_client(), "taker", 2)
    assert login(app.test_client(), "taker").status_code == 429
    assert login(other.test_client(), "taker").status_code == 429


def test_limits_come_from_the_configuration(app, client, city) -> None:
    app.config["LOGIN_MAX_FAILURES_PER_USER"] = 2
    fail(client, "taker", 2)
    assert login(client, "taker").status_code == 429


# --- sessions ---------------------------------------------------------------------------


@pytest.fixture
def expiring(app):
    app.config["SESSION_EXPIRY"] = True
    return app


def test_idle_sessions_end_after_thirty_minutes(expiring, client, city, clock) -> None:
    login(client, "boss")
    for _ in range(4):
        clock.advance(minutes=29)
        assert logged_in(client)  # each request keeps it alive
    clock.advance(minutes=30)
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "长时间未操作" in client.get("/login").get_data(as_text=True)
    assert not logged_in(client)


def test_sessions_end_eight_hours_after_log_in_however_busy(expiring, client, city, clock) -> None:
    login(client, "boss")
    for _ in range(23):
        clock.advance(minutes=20)
        assert logged_in(client)
    clock.advance(minutes=20)  # 8 h after log-in
    assert not logged_in(client)
    assert "登录已超过有效期" in client.get("/login").get_data(as_text=True)
    assert login(client, "boss").status_code == 302 and logged_in(client)


def test_the_idle_timeout_is_configurable(expiring, client, city, clock) -> None:
    expiring.config["SESSION_IDLE_TIMEOUT"] = 5 * 60
    login(client, "boss")
    clock.advance(minutes=5)
    assert not logged_in(client)


def test_under_testing_expiry_waits_to_be_asked_for(app, client, city, clock) -> None:
    # Other tests move the clock by days between requests; they keep their session.
    assert app.config["SESSION_EXPIRY"] is None
    login(client, "boss")
    clock.advance(days=3)
    assert logged_in(client)


def test_the_session_cookie_is_permanent_httponly_and_lax(app, city) -> None:
    response = login(app.test_client(), "boss")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie
    app.config["SESSION_COOKIE_SECURE"] = True
    secure = login(app.test_client(), "boss")
    assert "; Secure" in secure.headers["Set-Cookie"]
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_nothing_from_before_the_log_in_survives_it(client, city) -> None:
    with client.session_transaction() as sess:
        sess["planted"] = "by someone else"
        sess["_user_id"] = "999:forged"
    assert login(client, "boss").status_code == 302
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"].startswith(f"{city.supervisor.id}:")
    assert logged_in(client)


def test_a_password_change_ends_other_sessions(client, city) -> None:
    city.db.commit()
    login(client, "boss")
    assert logged_in(client)
    city.supervisor.password_hash = hash_password("a brand new password")
    city.db.commit()
    assert not logged_in(client)
    assert login(client, "boss", "a brand new password").status_code == 302


def test_deactivation_ends_the_session(client, city) -> None:
    city.db.commit()
    login(client, "boss")
    city.supervisor.is_active = False
    city.db.commit()
    assert not logged_in(client)


def test_a_session_cookie_moved_to_another_browser_is_ended(client, city) -> None:
    login(client, "boss")
    assert client.get("/", headers={"User-Agent": "another browser"}).status_code == 302
    assert not logged_in(client)  # and it stays ended for the first browser too


def test_a_forged_or_foreign_user_id_is_nobody(client, city, db) -> None:
    login(client, "boss")
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{city.admin.id}:{sess['_user_id'].split(':')[1]}"
    assert not logged_in(client)  # the fragment belongs to boss's password, not admin's


def test_log_out_is_a_post_and_ends_the_session(client, city) -> None:
    login(client, "boss")
    assert client.get("/logout").status_code == 405
    assert logged_in(client)
    assert client.post("/logout").status_code == 302
    assert not logged_in(client)
    assert db_user(city, "boss").is_active


def db_user(city, username: str) -> User:
    return city.db.scalar(sa.select(User).where(User.username == username))


def test_a_copied_cookie_is_refused_after_log_out(app, client, city) -> None:
    city.db.commit()
    login(client, "boss")
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert logged_in(copy)
    assert client.post("/logout").status_code == 302
    # Signed cookie sessions hold no server record: the epoch in the session id does the work.
    assert not logged_in(copy)
    assert login(client, "boss").status_code == 302 and logged_in(client)
