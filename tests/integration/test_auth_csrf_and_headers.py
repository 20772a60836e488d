"""Every form refuses a POST without its CSRF token (in Chinese), the JSON API still works with
its key, and every response carries the security headers."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from hotline.web.security import CONTENT_SECURITY_POLICY, CSRF_MESSAGE
from tests.factories import PASSWORD

DUMMY = {"int": "1", "uuid": str(uuid.UUID(int=1)), "float": "1.0"}


def form_posts(app) -> list[str]:
    """A URL for every rule that takes a POST outside the key-authenticated JSON API."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()) or rule.rule.startswith("/api/"):
            continue
        path = rule.rule
        for converter, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule):
            pattern = rf"<[^>]*\b{name}>"
            path = re.sub(pattern, DUMMY.get(converter, "x"), path)
        urls.append(path)
    return sorted(set(urls))


def token_from(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.fixture
def csrf_app(app, city):
    city.db.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def admin_client(app):
    client = app.test_client()
    token = token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302  # with its token the form works
    return client


def test_the_forms_are_found(csrf_app) -> None:
    urls = form_posts(csrf_app)
    assert {"/login", "/logout", "/desk/route", "/desk/transfer"} <= set(urls)
    assert {"/admin/agencies/new", "/admin/users/new", "/admin/rules"} <= set(urls)


def test_a_post_without_its_token_is_refused_everywhere(csrf_app) -> None:
    client = admin_client(csrf_app)
    for url in form_posts(csrf_app):
        response = client.post(url, data={"anything": "1"})
        body = response.get_data(as_text=True)
        assert response.status_code == 400, url
        assert CSRF_MESSAGE in body, url
    assert client.get("/").status_code == 200  # /logout without a token logged nobody out


def test_a_wrong_token_is_refused_too(csrf_app) -> None:
    client = admin_client(csrf_app)
    response = client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 400 and CSRF_MESSAGE in response.get_data(as_text=True)


def test_the_desk_json_posts_need_the_header_token(csrf_app) -> None:
    client = admin_client(csrf_app)
    response = client.post("/desk/route", json={"transcript": "井盖松动"})
    assert response.status_code == 400 and response.json["message"] == CSRF_MESSAGE


def test_the_json_api_still_works_with_its_key(routed_app, desk) -> None:
    from hotline.services.exchange import create_client

    _, key = create_client(desk.ctx(desk.admin), name="110接处警系统", hotline="110")
    desk.db.commit()
    routed_app.config["WTF_CSRF_ENABLED"] = True
    response = routed_app.test_client().post(
        "/api/v1/calls",
        json={"transcript": "小区门口井盖松动了", "external_id": "JJ-CSRF-1"},
        headers={"X-API-Key": key, "Idempotency-Key": "csrf-1"},
    )
    assert response.status_code == 201, response.json


# --- headers ----------------------------------------------------------------------------

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def assert_security_headers(response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


def test_the_policy_allows_no_inline_script_and_no_framing() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


def test_html_pages_carry_the_headers_and_are_not_stored(client, city) -> None:
    city.db.commit()
    client.post("/login", data={"username": "boss", "password": PASSWORD})
    for url in ("/", "/login", "/desk/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store", url


def test_json_and_error_answers_carry_the_headers(client, city) -> None:
    for response in (
        client.get("/healthz"),
        client.get("/api/v1/feedback"),  # 401 JSON without a key
        client.get("/no/such/page"),
    ):
        assert_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client) -> None:
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert_security_headers(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_templates_have_no_inline_script() -> None:
    """The policy forbids inline script: every <script> must load a file."""
    templates = Path(__file__).resolve().parents[2] / "hotline" / "templates"
    for path in templates.rglob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", path.read_text(encoding="utf-8")):
            assert "src=" in tag, f"{path.name}: inline <script> is blocked by the CSP"
        assert not re.search(r"\son\w+\s*=", path.read_text(encoding="utf-8")), (
            f"{path.name}: inline event handlers are blocked by the CSP"
        )


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(app, city) -> None:
    from hotline import create_app

    proxied = create_app({**app.config, "TRUSTED_PROXIES": 1})
    client = proxied.test_client()
    for n in range(30):
        client.post(
            "/login",
            data={"username": f"g{n}", "password": "wrong"},
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
    blocked = client.post(
        "/login",
        data={"username": "boss", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    other = client.post(
        "/login",
        data={"username": "boss", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.8"},
    )
    assert blocked.status_code == 429 and other.status_code == 302
