"""Security drill against the live stack (gunicorn with 3 workers + PostgreSQL + the scheduler).

    .venv/bin/python -m drills.security [--short]

1. Every route of the URL map as every role (anonymous, call taker, another agency's staff,
   the owning agency's staff, supervisor, admin) and every API route with no key, a wrong key,
   another system's key and its own: the statuses, checked against the policy.
2. Sessions: log-in issues a new cookie and keeps nothing of the old one; a cookie captured
   before log-in grants nothing after; a cookie presented from another browser is logged out;
   a password reset ends the old sessions; a cookie replayed after log-out is refused.
3. CSRF: every non-API POST route without a token, and with another session's token: 400.
4. Brute force: wrong passwords lock the name (429) across workers, the right password is
   refused while locked, and works again once the window (shortened to a few seconds through
   HOTLINE_LOGIN_FAILURE_WINDOW) has passed.
5. Secrets: no API key, password, session cookie, CSRF token or caller number used in the
   drill appears in the gunicorn or scheduler output.
6. Headers on every answer (HTML, JSON, CSV, XLSX, attachments, errors, redirects): CSP with
   frame-ancestors, X-Frame-Options, X-Content-Type-Options, Referrer-Policy; the session
   cookie HttpOnly and SameSite.
Then the store audit. ``--short`` tries one form key per ticket action URL and skips nothing
else; the long version tries every form key.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
import sqlalchemy as sa

from drills._http import Browser, Tally, chinese_message
from drills.common import (
    PASSWORD,
    fresh_database,
    machine,
    prepare,
    running,
    today,
    verdict,
)
from hotline.web.security import CSRF_MESSAGE

DATABASE = "hotline_drill_security"
PORT = 8792
WINDOW_SECONDS = 6
MAX_FAILURES = 5
CALLER = "13912345678"  # the planted ticket's caller: must never reach a log
API_CALLER = "13987650000"
PDF = b"%PDF-1.4 drill attachment"
ROLES = ("anonymous", "calltaker", "urban-mgmt", "housing", "supervisor", "admin")
SHORT_NAMES = {
    "anonymous": "anon",
    "calltaker": "taker",
    "urban-mgmt": "other",
    "housing": "owner",
    "supervisor": "boss",
    "admin": "admin",
}


@dataclass
class Ids:
    ticket: int
    call: int  # pushed by the 12345 system
    agency: int  # a throwaway agency the admin may change
    user: int  # a throwaway user the admin may change
    attachment: int = 0


@dataclass
class Findings:
    tally: Tally = field(default_factory=Tally)
    secrets: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)

    def check(self, ok: bool, line: str) -> None:
        self.lines.append(f"  {'ok ' if ok else 'BAD'} {line}")
        if not ok:
            self.tally.fail(line)


# --- set-up ----------------------------------------------------------------------------------


def plant(db_url: str) -> tuple[int, int, int]:
    """A ticket the housing agency leads and has signed for (with a caller number), and a
    throwaway agency and user for the admin routes, which change what they name."""
    from datetime import timedelta

    from hotline import create_app
    from hotline.domain.vocabulary import AgencyKind, Role
    from hotline.extensions import db
    from hotline.models import User
    from hotline.services import tickets
    from hotline.services.context import Actor, Context
    from hotline.services.directory import create_agency, create_user
    from hotline.services.intake import CallInput, open_ticket, register_call

    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "drill"})
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(sa.select(User))}

        def ctx(username: str) -> Context:
            return Context(
                db=db.session,
                actor=Actor.of(users[username]),
                now=app.extensions["hotline.clock"].now() - timedelta(hours=1),
                calendar=app.extensions["hotline.calendar"],
                policies=app.extensions["hotline.policies"],
            )

        call = register_call(
            ctx("calltaker"),
            CallInput(hotline="12345", transcript="小区电梯停运两天", caller_number=CALLER),
        )
        ticket = open_ticket(ctx("calltaker"), call)
        tickets.dispatch(ctx("calltaker"), ticket.id, lead_agency="housing")
        tickets.sign_for(ctx("housing"), ticket.id)
        admin = Context(db=db.session, actor=Actor(role=Role.ADMIN), now=ctx("admin").now)
        agency = create_agency(
            admin, code="drill-victim", name="演练用单位", kind=AgencyKind.GOVERNMENT
        )
        user = create_user(
            admin,
            username="drill-victim",
            display_name="演练用户",
            role=Role.AGENCY_STAFF,
            password=PASSWORD,
            agency=agency,
        )
        db.session.commit()
        return ticket.id, agency.id, user.id


def url_rules() -> list[tuple[str, str, str]]:
    """(rule, method, endpoint) of every route, read from the app itself."""
    from hotline import create_app

    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "drill"})
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, rule.endpoint))
    return sorted(found)


def fill(rule: str, ids: Ids, keys: list[str]) -> list[str]:
    url = (
        rule.replace("<int:ticket_id>", str(ids.ticket))
        .replace("<int:attachment_id>", str(ids.attachment))
        .replace("<int:agency_id>", str(ids.agency))
        .replace("<int:user_id>", str(ids.user))
        .replace("<int:call_id>", str(ids.call))
    )
    if "<key>" in url:
        return [url.replace("<key>", key) for key in keys]
    return [url]


# --- 1. the matrix ---------------------------------------------------------------------------

OK = "ok"  # authorised: any answer below 400, or a 409 / 422 about the (empty) form


def expected(rule: str, endpoint: str, role: str) -> str:
    public = endpoint in ("health.healthz", "health.readyz", "metrics.metrics")
    if public:
        return OK
    if role == "anonymous":
        return "302→login"
    if rule.startswith("/admin"):
        return OK if role == "admin" else "403"
    if rule.startswith("/reports"):
        return OK if role in ("supervisor", "admin") else "403"
    if rule.startswith("/desk") or rule == "/review":
        return OK if role in ("calltaker", "supervisor") else "403"
    if "<int:ticket_id>" in rule:
        if role == "admin" and rule.endswith("/attachments"):
            return "403"  # admins keep the directory; files come from those handling the case
        return "404" if role == "urban-mgmt" else OK
    return OK


def classify(response: requests.Response) -> str:
    status = response.status_code
    if status == 302 and "/login" in response.headers.get("Location", ""):
        return "302→login"
    if status < 400 or status in (409, 422):
        return OK
    return str(status)


def matrix(base: str, found: Findings, people: dict[str, Browser], ids: Ids, short: bool):
    from hotline.web.ticket_forms import FORMS

    keys = ["record_progress"] if short else list(FORMS)
    rows: list[str] = []
    bad = 0
    tried = 0
    for rule, method, endpoint in url_rules():
        if rule.startswith("/api/") or endpoint in ("auth.login", "auth.logout"):
            continue  # the API has its own matrix; log-in and log-out are tried below
        for url in fill(rule, ids, keys):
            cells = []
            for role in ROLES:
                response = _try(people[role], method, url, rule)
                tried += 1
                got, want = classify(response), expected(rule, endpoint, role)
                mark = "" if got == want else "!"
                if mark:
                    bad += 1
                    found.tally.fail(f"{role} {method} {url}: {got} ({response.status_code})")
                cells.append(f"{response.status_code}{mark}")
            rows.append(f"  {method:<4} {url[:46]:<46} " + " ".join(f"{c:>5}" for c in cells))
    header = f"  {'':<4} {'route':<46} " + " ".join(f"{SHORT_NAMES[r]:>5}" for r in ROLES)
    return [header, *rows], tried, bad


def _try(browser: Browser, method: str, url: str, rule: str) -> requests.Response:
    if method == "GET":
        return browser.get(url)
    token = browser.csrf_token or ""
    if rule.startswith("/desk"):
        return browser.post(url, json={}, headers={"X-CSRFToken": token})
    return browser.post(url, data={"csrf_token": token})


def api_matrix(base: str, found: Findings, keys: dict[str, str], ids: Ids) -> list[str]:
    keyrings = {
        "no key": None,
        "wrong key": "hk_" + "0" * 40,
        "other system": keys["110"],
        "own key": keys["12345"],
    }
    routes = [
        ("POST", "/api/v1/calls", {"no key": 401, "wrong key": 401}),
        (
            "GET",
            f"/api/v1/calls/{ids.call}",
            {"no key": 401, "wrong key": 401, "other system": 404, "own key": 200},
        ),
        ("GET", "/api/v1/feedback", {"no key": 401, "wrong key": 401, "own key": 200}),
        ("GET", "/api/v1/openapi.json", dict.fromkeys(keyrings, 200)),
    ]
    rows = [f"  {'':<4} {'API route':<30} " + " ".join(f"{k:>12}" for k in keyrings)]
    for method, path, want in routes:
        cells = []
        for name, key in keyrings.items():
            headers = {"X-API-Key": key} if key else {}
            if method == "POST":
                headers |= {"Idempotency-Key": uuid.uuid4().hex}
            response = Browser(base, found.tally, name).request(
                method, path, json={} if method == "POST" else None, headers=headers
            )
            expect = want.get(name)
            ok = response.status_code == expect if expect else response.status_code < 500
            if expect is None and response.status_code in (401, 403):
                ok = False  # a valid key must pass authentication
            if not ok:
                found.tally.fail(f"API {method} {path} with {name}: {response.status_code}")
            cells.append(f"{response.status_code}{'' if ok else '!'}")
        rows.append(f"  {method:<4} {path:<30} " + " ".join(f"{c:>12}" for c in cells))
    return rows


# --- 2. sessions -------------------------------------------------------------------------------


def session_payload(cookie: str | None) -> dict:
    """What a Flask cookie session holds: signed, not encrypted, so anyone can read it."""
    if not cookie:
        return {}
    compressed = cookie.startswith(".")  # itsdangerous marks a zlib-compressed payload
    data = cookie.split(".")[1 if compressed else 0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    if compressed:
        raw = zlib.decompress(raw)
    return json.loads(raw)


def sessions(base: str, found: Findings, user_id: int) -> None:
    t = found.tally
    victim = Browser(base, t)
    victim.get("/login")
    before = victim.session_cookie
    found.secrets.add(before or "")
    # The throwaway user, not a role of the matrix: log-out ends every session of its user.
    victim.login("drill-victim")
    after = victim.session_cookie
    found.secrets.add(after or "")
    old, new = session_payload(before), session_payload(after)
    found.check(
        before != after and old.get("csrf_token") != new.get("csrf_token"),
        "log-in issues a new session cookie; the pre-log-in CSRF token does not survive",
    )
    # An attacker who planted or captured the pre-log-in cookie gains nothing by it.
    attacker = Browser(base, t, "attacker")
    attacker.http.cookies.set("session", before or "")
    response = attacker.get("/")
    found.check(
        classify(response) == "302→login",
        "the cookie from before log-in, replayed after the victim logged in: "
        f"{response.status_code} to log-in",
    )
    # Flask-Login's "strong" protection: the same cookie from another browser logs out.
    thief = Browser(base, t, "thief")
    thief.http.headers["User-Agent"] = "another-browser"
    thief.http.cookies.set("session", after or "")
    response = thief.get("/")
    found.check(
        classify(response) == "302→login",
        f"the logged-in cookie presented by another browser: {response.status_code} to log-in",
    )
    # Log-out, then replay the cookie that was logged in.
    token = victim.csrf("/")
    victim.post("/logout", data={"csrf_token": token})
    replay = Browser(base, t, "replay")
    replay.http.cookies.set("session", after or "")
    response = replay.get("/")
    found.check(
        classify(response) == "302→login",
        f"the logged-in cookie replayed after log-out: {response.status_code} to log-in",
    )
    # A password reset ends every session of that user (the fragment in the session id).
    staff = Browser(base, t).logged_in("drill-victim")
    found.secrets.add(staff.session_cookie or "")
    admin = Browser(base, t).logged_in("admin")
    found.secrets.add(admin.session_cookie or "")
    edit = admin.get(f"/admin/users/{user_id}/edit").text
    new_password = "drill-" + uuid.uuid4().hex[:12]
    found.secrets.add(new_password)
    admin.post(
        f"/admin/users/{user_id}/password",
        data={
            "csrf_token": _token(edit),
            "password": new_password,
            "password_confirm": new_password,
        },
    )
    response = staff.get("/")
    found.check(
        classify(response) == "302→login",
        f"after an admin resets the password, the old session: {response.status_code} to log-in",
    )


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


# --- 3. CSRF -----------------------------------------------------------------------------------


def csrf(base: str, found: Findings, people: dict[str, Browser], ids: Ids) -> int:
    owner = {"/admin": "admin", "/desk": "calltaker", "/tickets": "housing"}
    tried = 0
    for rule, method, endpoint in url_rules():
        if method != "POST" or rule.startswith("/api/"):
            continue
        prefix = "/" + rule.split("/")[1]
        who = "anonymous" if endpoint == "auth.login" else owner.get(prefix, "supervisor")
        browser = people[who]
        # A valid token, but of another person's session.
        other = people["admin" if who != "admin" else "supervisor"].csrf_token or ""
        for url in fill(rule, ids, ["record_progress"]):
            for label, token in (("no token", None), ("another session's token", other)):
                if rule.startswith("/desk"):
                    headers = {"X-CSRFToken": token} if token else {}
                    response = browser.post(url, json={}, headers=headers)
                else:
                    response = browser.post(url, data={"csrf_token": token} if token else {})
                tried += 1
                ok = response.status_code == 400 and chinese_message(response) is not None
                ok = ok and CSRF_MESSAGE in (chinese_message(response) or "")
                if not ok:
                    found.tally.fail(f"CSRF {who} POST {url} with {label}: {response.status_code}")
    found.check(True, f"CSRF: {tried} POSTs without a token or with another session's (all 400)")
    return tried


# --- 4. brute force ----------------------------------------------------------------------------


def brute_force(base: str, found: Findings) -> None:
    name = "calltaker110"
    attempts = []
    for n in range(MAX_FAILURES):
        wrong = f"wrong-{n}-{uuid.uuid4().hex[:6]}"
        found.secrets.add(wrong)
        # A new browser (and connection) each time: gunicorn's sync workers take turns.
        attempts.append(Browser(base, found.tally).login(name, wrong).status_code)
    locked = Browser(base, found.tally).login(name, PASSWORD)
    found.check(
        attempts == [200] * MAX_FAILURES and locked.status_code == 429,
        f"{MAX_FAILURES} wrong passwords ({attempts}), then the right one while locked: "
        f"{locked.status_code}, Retry-After {locked.headers.get('Retry-After')} s",
    )
    wait = int(locked.headers.get("Retry-After", WINDOW_SECONDS)) + 1
    time.sleep(min(wait, WINDOW_SECONDS + 2))
    unlocked = Browser(base, found.tally).login(name, PASSWORD)
    found.check(
        unlocked.status_code == 302,
        f"after the {WINDOW_SECONDS}-s window: the right password {unlocked.status_code}",
    )


# --- 5 and 6 -------------------------------------------------------------------------------------


def headers_and_cookies(base: str, found: Findings, people: dict[str, Browser], ids: Ids) -> None:
    boss, owner = people["supervisor"], people["housing"]
    samples: dict[str, Callable[[], requests.Response]] = {
        "HTML page": lambda: boss.get("/"),
        "JSON (desk)": lambda: people["calltaker"].get("/desk/queue"),
        "JSON (API 401)": lambda: Browser(base, found.tally).get("/api/v1/feedback"),
        "CSV export": lambda: boss.get("/reports/overdue?format=csv"),
        "XLSX export": lambda: boss.get("/reports/kpi?format=xlsx"),
        "attachment": lambda: owner.get(f"/tickets/{ids.ticket}/attachments/{ids.attachment}"),
        "404 page": lambda: boss.get("/tickets/999999999"),
        "403 page": lambda: owner.get("/reports/kpi"),
        "400 CSRF": lambda: boss.post("/logout", data={}),
        "302 redirect": lambda: Browser(base, found.tally).get("/"),
        "static file": lambda: boss.get("/static/desk.js"),
    }
    for label, call in samples.items():
        before = len(found.tally.problems)
        response = call()
        found.check(
            len(found.tally.problems) == before,
            f"headers on {label} ({response.status_code} {response.headers.get('Content-Type')})",
        )
    login = Browser(base, found.tally)
    token = login.csrf("/login")
    response = login.post(
        "/login", data={"username": "supervisor", "password": PASSWORD, "csrf_token": token}
    )
    cookie = response.headers.get("Set-Cookie", "")
    found.secrets.add(login.session_cookie or "")
    found.check(
        "HttpOnly" in cookie and "SameSite=Lax" in cookie,
        "the session cookie is HttpOnly and SameSite=Lax"
        " (Secure only with HOTLINE_SESSION_COOKIE_SECURE behind HTTPS)",
    )


def secrets_in_logs(found: Findings, logs) -> None:
    text = "\n".join(p.read_text(errors="replace") for p in sorted(logs.glob("*.log")))
    leaked = sorted({s[:12] + "…" for s in found.secrets if len(s) >= 8 and s in text})
    found.check(
        not leaked,
        f"{len([s for s in found.secrets if len(s) >= 8])} secrets (API keys, passwords, "
        f"session cookies, CSRF tokens, caller numbers) against {len(text):,} bytes of logs"
        + (f": found {leaked}" if leaked else ": none found"),
    )


# --- the drill ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the CI version (about a minute)")
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args(argv)
    started = time.monotonic()
    print(f"security drill ({'short' if args.short else 'long'}), {today()}, {machine()}")
    db_url = fresh_database(args.database)
    keys = prepare(db_url, tickets=0)
    ticket, agency, user = plant(db_url)
    found = Findings()
    found.secrets |= {*keys.values(), PASSWORD, CALLER, API_CALLER}
    env = {
        "HOTLINE_LOGIN_FAILURE_WINDOW": str(WINDOW_SECONDS),
        "HOTLINE_LOGIN_MAX_FAILURES_PER_USER": str(MAX_FAILURES),
        # The matrix logs in often from 127.0.0.1; the per-address lock is tested in pytest.
        "HOTLINE_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000",
    }
    with running(db_url, port=args.port, workers=3, env=env) as stack:
        stack.start_scheduler()
        base = stack.url
        pushed = Browser(base, found.tally, "12345 system").post(
            "/api/v1/calls",
            json={"transcript": "演练来电：咨询公积金提取", "caller_number": API_CALLER},
            headers={"X-API-Key": keys["12345"], "Idempotency-Key": uuid.uuid4().hex},
        )
        ids = Ids(ticket=ticket, call=pushed.json()["call_id"], agency=agency, user=user)
        people = {"anonymous": Browser(base, found.tally)}
        for role in ROLES[1:]:
            people[role] = Browser(base, found.tally).logged_in(role)
            found.secrets.add(people[role].session_cookie or "")
        for browser in people.values():
            browser.csrf_token = browser.csrf("/login" if browser.name == "anonymous" else "/")
            found.secrets.add(browser.csrf_token)
        token = people["housing"].csrf_token
        upload = people["housing"].post(
            f"/tickets/{ticket}/attachments",
            data={"csrf_token": token},
            files={"file": ("drill.pdf", PDF, "application/pdf")},
        )
        found.check(upload.status_code == 302, f"attachment uploaded: {upload.status_code}")
        ids.attachment = _attachment_id(db_url, ticket)

        # Sessions first: the matrix's admin requests deactivate the throwaway user.
        sessions(base, found, user)
        rows, tried, bad = matrix(base, found, people, ids, args.short)
        api_rows = api_matrix(base, found, keys, ids)
        csrf(base, found, people, ids)
        brute_force(base, found)
        headers_and_cookies(base, found, people, ids)
        for browser in people.values():
            found.secrets.add(browser.session_cookie or "")
    secrets_in_logs(found, stack.logs)
    # The pushed call was queued for review, then transferred from the desk in the matrix.
    audit = verdict(db_url, {ids.call})

    print(f"route × role: {tried} requests, {bad} against the policy")
    print(*rows, sep="\n")
    print(*api_rows, sep="\n")
    print("checks:", *found.lines, sep="\n")
    print(f"all requests: {found.tally.summary()}")
    print("store audit:", *audit.lines, sep="\n  ")
    for problem in found.tally.problems[:30]:
        print(f"  ! {problem[:300]}")
    ok = not found.tally.problems and audit.ok
    print(f"logs: {stack.logs}")
    print(f"security drill: {'PASS' if ok else 'FAIL'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


def _attachment_id(db_url: str, ticket_id: int) -> int:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT max(id) FROM attachments WHERE ticket_id = :t"), {"t": ticket_id}
            ).scalar_one()
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
