"""The load drill's workload for locust (run by ``drills/load.py``, not by hand).

Three kinds of simulated users, each paced with ``constant_throughput`` so the arrival rate is
the one the drill asks for (a user whose request takes longer than its interval falls behind,
which the drill reports as "did not keep up"):

- ``Intake``: the 110 and 12345 systems pushing calls through the transfer API, one fresh
  Idempotency-Key per call; a timeout, a refused connection or a 502/503/504 is retried with the
  same key (what a real client does), so a replay (200) also counts as accepted.
- ``AgencyStaff``: one per agency account, several per agency at higher rates; every step reads
  the inbox, then opens a ticket that arrived for its agency and signs for it, or replies to one
  it signed for earlier. The ticket comes from a queue of the tickets the intake created for
  that agency, so two simulated staff never race for one ticket (a 409 would then be a bug).
- ``Supervisor``: opens the KPI report and the overdue list in turn.

Settings come from the JSON file named by ``LOAD_DRILL_CONFIG``; at the end the process writes
what clients were told (accepted call ids, tickets signed for and replied to, errors by kind) to
the file the config names, for the drill's consistency verdict.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections import Counter, defaultdict, deque
from copy import copy
from http.cookiejar import Cookie
from pathlib import Path
from typing import Any

import gevent
import gevent.lock
from locust import FastHttpUser, constant_throughput, events, task

from drills.load_mix import AGENCIES, PASSWORD, REPLY_TEXT, TRANSCRIPTS

CONFIG: dict[str, Any] = json.loads(Path(os.environ["LOAD_DRILL_CONFIG"]).read_text())


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
RETRIED_STATUSES = {502, 503, 504}
ATTEMPTS = 3

INTAKE = "POST /api/v1/calls"
INBOX = "GET / (inbox)"
TICKET = "GET /tickets/<id>"
ACTION = "POST /tickets/<id>/actions/{}"
KPI = "GET /reports/kpi"
OVERDUE = "GET /reports/overdue"


class Record:
    """What the clients were told, for the verdict."""

    def __init__(self) -> None:
        self.accepted: dict[int, int | None] = {}  # call id -> ticket id
        self.unknown_keys: list[str] = []  # gave up without an answer: outcome unknown
        self.done: dict[str, list[int]] = {"sign_for": [], "reply": []}
        self.errors: Counter[tuple[str, str]] = Counter()  # (endpoint, kind)
        self.retries = 0
        self.replays = 0
        # Requests still running when locust stopped the user: their outcome is unknown too.
        self.pending_keys: set[str] = set()
        self.pending_actions: Counter[str] = Counter()

    def error(self, name: str, kind: str) -> None:
        self.errors[(name, kind)] += 1


RECORD = Record()
# Tickets waiting for each agency: first to be signed for, then (once signed) to be replied to.
TO_SIGN: dict[str, deque[int]] = defaultdict(deque)
TO_REPLY: dict[str, deque[int]] = defaultdict(deque)
_sessions: dict[str, list[Cookie]] = {}
_login_locks: dict[str, gevent.lock.Semaphore] = defaultdict(gevent.lock.Semaphore)
_numbers = itertools.count()


def kind_of(response: Any) -> str:
    """An error's kind from a locust response: the status class, or what broke the exchange."""
    status = response.status_code or 0
    if status:
        return str(status)
    error = response.error
    text = f"{type(error).__name__}: {error}".lower()
    if "timeout" in text or "timed out" in text:
        return "timeout"
    if "refused" in text or "reset" in text or "broken pipe" in text:
        return "connection"
    return type(error).__name__ if error is not None else "no answer"


class Paced(FastHttpUser):
    abstract = True
    network_timeout = float(CONFIG.get("timeout", 10))
    connection_timeout = 5.0
    rate = 1.0

    def on_start(self) -> None:
        # Start at a random point of the first interval, not all at once.
        gevent.sleep(random.uniform(0, 1 / self.rate))

    def log_in(self, username: str) -> None:
        """One log-in per account and process; the other simulated staff of that agency share
        the session (log-ins are not part of the per-call load, and argon2 would dominate)."""
        with _login_locks[username]:
            if username not in _sessions:
                with self.client.get("/login", name="GET /login", catch_response=True) as page:
                    token = CSRF.search(page.text or "")
                    if token is None:
                        page.failure("no csrf token on the log-in page")
                        raise RuntimeError("log-in page without csrf token")
                with self.client.post(
                    "/login",
                    data={"username": username, "password": PASSWORD, "csrf_token": token[1]},
                    name="POST /login",
                    allow_redirects=False,
                    catch_response=True,
                ) as answer:
                    if answer.status_code != 302:
                        answer.failure(f"log-in of {username} answered {answer.status_code}")
                        raise RuntimeError(f"log-in of {username} failed")
                _sessions[username] = list(self.client.cookiejar)
            else:
                for cookie in _sessions[username]:
                    self.client.cookiejar.set_cookie(copy(cookie))


class Intake(Paced):
    fixed_count = int(CONFIG["users"]["intake"])
    rate = float(CONFIG["rates"]["intake"])
    wait_time = constant_throughput(rate)

    def on_start(self) -> None:
        self.number = next(_numbers)
        hotline = "110" if self.number % 2 == 0 else "12345"
        self.key = CONFIG["keys"][hotline]
        self.calls = 0
        super().on_start()

    @task
    def push_call(self) -> None:
        self.calls += 1
        agency = AGENCIES[(self.number + self.calls) % len(AGENCIES)]
        key = f"{CONFIG['prefix']}-{self.number}-{self.calls}"
        body = {"transcript": TRANSCRIPTS[agency], "external_id": key}
        headers = {"X-API-Key": self.key, "Idempotency-Key": key}
        # Not in a ``finally``: a user stopped mid-request must leave its key pending.
        RECORD.pending_keys.add(key)
        self._push(key, body, headers)
        RECORD.pending_keys.discard(key)

    def _push(self, key: str, body: dict[str, str], headers: dict[str, str]) -> None:
        for attempt in range(ATTEMPTS):
            if attempt:
                RECORD.retries += 1
                gevent.sleep(0.5 * attempt)
            with self.client.post(
                "/api/v1/calls", json=body, headers=headers, name=INTAKE, catch_response=True
            ) as response:
                status = response.status_code or 0
                if status in (200, 201, 202):
                    self._accepted(response.json(), status)
                    return
                kind = kind_of(response)
                RECORD.error(INTAKE, kind)
                response.failure(kind)
                if status and status not in RETRIED_STATUSES:
                    return  # refused for a reason a retry cannot change
        RECORD.unknown_keys.append(key)

    def _accepted(self, body: dict[str, Any], status: int) -> None:
        ticket = body.get("ticket") or {}
        RECORD.accepted[int(body["call_id"])] = ticket.get("id")
        RECORD.replays += status == 200
        lead = ticket.get("lead_agency")
        if ticket.get("state") == "dispatched" and lead in TRANSCRIPTS and status != 200:
            TO_SIGN[lead].append(int(ticket["id"]))


class AgencyStaff(Paced):
    fixed_count = int(CONFIG["users"]["staff"])
    rate = float(CONFIG["rates"]["staff"])
    wait_time = constant_throughput(rate)

    def on_start(self) -> None:
        self.agency = AGENCIES[next(_numbers) % len(AGENCIES)]
        self.log_in(self.agency)
        super().on_start()

    @task
    def step(self) -> None:
        with self.client.get("/", name=INBOX, catch_response=True) as page:
            if page.status_code != 200:
                RECORD.error(INBOX, kind_of(page))
                page.failure(kind_of(page))
        # Reply first: a ticket signed for is already on someone's desk.
        if TO_REPLY[self.agency]:
            self.act(TO_REPLY[self.agency].popleft(), "reply")
        elif TO_SIGN[self.agency]:
            self.act(TO_SIGN[self.agency].popleft(), "sign_for")

    def act(self, ticket_id: int, key: str) -> None:
        name = ACTION.format(key)
        with self.client.get(f"/tickets/{ticket_id}", name=TICKET, catch_response=True) as page:
            if page.status_code != 200:
                RECORD.error(TICKET, kind_of(page))
                page.failure(kind_of(page))
                return
            html = page.text or ""
        form_at = html.find(f'action="/tickets/{ticket_id}/actions/{key}"')
        token, version = CSRF.search(html, max(form_at, 0)), VERSION.search(html, max(form_at, 0))
        if form_at < 0 or token is None or version is None:
            RECORD.error(name, "form not offered")
            return
        form = {"csrf_token": token[1], "version": version[1]}
        if key == "reply":
            form |= {
                "contacted_caller": "yes",
                "resolved": "yes",
                "reply_text": REPLY_TEXT,
            }
        RECORD.pending_actions[key] += 1
        self._post(ticket_id, key, name, form)
        RECORD.pending_actions[key] -= 1

    def _post(self, ticket_id: int, key: str, name: str, form: dict[str, str]) -> None:
        with self.client.post(
            f"/tickets/{ticket_id}/actions/{key}",
            data=form,
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            # Done means redirected back to the ticket (a lost session redirects to log-in).
            if answer.status_code == 302 and f"/tickets/{ticket_id}" in (
                answer.headers.get("Location") or ""
            ):
                RECORD.done[key].append(ticket_id)
                if key == "sign_for":
                    TO_REPLY[self.agency].append(ticket_id)
            else:
                RECORD.error(name, kind_of(answer))
                answer.failure(kind_of(answer))


class Supervisor(Paced):
    fixed_count = int(CONFIG["users"]["supervisor"])
    rate = float(CONFIG["rates"]["supervisor"])
    wait_time = constant_throughput(rate)

    def on_start(self) -> None:
        self.log_in("supervisor")
        self.turn = 0
        super().on_start()

    @task
    def report(self) -> None:
        self.turn += 1
        path, name = ("/reports/kpi", KPI) if self.turn % 2 else ("/reports/overdue", OVERDUE)
        with self.client.get(path, name=name, catch_response=True) as page:
            if page.status_code != 200:
                RECORD.error(name, kind_of(page))
                page.failure(kind_of(page))


@events.quitting.add_listener
def _write_record(environment: Any, **_: Any) -> None:
    out = {
        "accepted": {str(k): v for k, v in RECORD.accepted.items()},
        "unknown_keys": RECORD.unknown_keys + sorted(RECORD.pending_keys),
        "pending_actions": dict(RECORD.pending_actions),
        "done": RECORD.done,
        "errors": [[name, kind, n] for (name, kind), n in RECORD.errors.items()],
        "retries": RECORD.retries,
        "replays": RECORD.replays,
        "waiting": {
            "to_sign": sum(len(q) for q in TO_SIGN.values()),
            "to_reply": sum(len(q) for q in TO_REPLY.values()),
        },
    }
    Path(CONFIG["out"]).write_text(json.dumps(out))
