"""The steady API load the fault drills run under, and what each drill needs around it.

Each client thread pushes calls with unique Idempotency-Keys. A call that gets no answer (the
connection dropped, a worker died) or a 503 is retried with the SAME key and body, as the
other hotline's system does, until an answer says it was accepted (200 / 201 / 202). Every
call a client was told was accepted is remembered, for the verdict.
"""

from __future__ import annotations

import http.client
import itertools
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from drills.common import ADMIN_URL, PASSWORD, fresh_database, post_json, prepare

ACCEPTED = (200, 201, 202)
RETRYABLE = (503,)
# Some texts the shipped rules transfer at once, some they leave for review.
TRANSCRIPTS = (
    "小区门口的井盖松动了，晚上很危险，请尽快处理",
    "楼下烧烤摊油烟很大，已经持续好几个晚上了",
    "公司拖欠了我三个月工资，老板一直不给",
    "有人在菜市场门口打架，已经有人受伤了",
    "路灯坏了一个多星期了，晚上走路看不见",
    "咨询一下社保卡丢了怎么补办",
    "隔壁装修噪音太大，中午也不停",
    "马路上有个大坑，刚才有电动车摔倒了",
)


@dataclass
class LoadFigures:
    calls: int = 0  # distinct calls (keys) started
    attempts: int = 0  # HTTP requests sent
    accepted: int = 0
    replays: int = 0  # a retry that found its call already made (the first answer was lost)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # no HTTP answer, by kind
    retries: int = 0
    unresolved: int = 0  # gave up (should stay 0)
    missing_retry_after: int = 0  # a 503 without the header
    messages: Counter[str] = field(default_factory=Counter)  # what the 503 answers said
    failures: list[str] = field(default_factory=list)  # answers a client must never get
    first_fault: float | None = None
    last_fault: float | None = None
    first_success_after_fault: float | None = None

    def describe(self) -> str:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(self.errors.items())) or "none"
        return (
            f"calls {self.calls}, requests {self.attempts}, accepted {self.accepted} "
            f"(replayed on retry {self.replays}), retries {self.retries}, "
            f"unresolved {self.unresolved}; answers {{{statuses}}}; no answer {{{errors}}}"
        )


class Load:
    """``threads`` clients posting calls until ``stop()``; each finishes its call in hand."""

    def __init__(
        self,
        url: str,
        keys: dict[str, str],
        *,
        threads: int = 3,
        prefix: str = "drill",
        pause: float = 0.05,
        give_up_after: float = 90.0,
    ) -> None:
        self.url, self.keys, self.prefix = url, keys, prefix
        self.pause, self.give_up_after = pause, give_up_after
        self.figures = LoadFigures()
        self.ticketed: set[int] = set()  # accepted calls the API said have their ticket
        self.queued: set[int] = set()  # accepted calls waiting for review (no ticket yet)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._counter = itertools.count(1)
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(threads)
        ]
        self.started = time.monotonic()

    def start(self) -> Load:
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> LoadFigures:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.give_up_after + 15)
        return self.figures

    def __enter__(self) -> Load:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _client(self, number: int) -> None:
        while not self._stop.is_set():
            n = next(self._counter)
            hotline = ("110", "12345")[n % 2]
            body = {
                "transcript": TRANSCRIPTS[n % len(TRANSCRIPTS)],
                "external_id": f"{self.prefix}-{n}",
                "caller_number": f"1380000{n % 10000:04d}",
            }
            headers = {"X-API-Key": self.keys[hotline], "Idempotency-Key": f"{self.prefix}-{n}"}
            with self._lock:
                self.figures.calls += 1
            self._push(body, headers)
            time.sleep(self.pause)

    def _push(self, body: dict[str, str], headers: dict[str, str]) -> None:
        began = time.monotonic()
        first = True
        while True:
            if not first:
                with self._lock:
                    self.figures.retries += 1
            first = False
            status, answer, response_headers = self._attempt(body, headers)
            now = time.monotonic() - self.started
            with self._lock:
                f = self.figures
                f.attempts += 1
                if status in ACCEPTED:
                    f.statuses[str(status)] += 1
                    f.accepted += 1
                    f.replays += status == 200
                    if f.last_fault is not None and f.first_success_after_fault is None:
                        f.first_success_after_fault = now
                    assert isinstance(answer, dict)
                    ids = self.queued if answer.get("ticket") is None else self.ticketed
                    ids.add(int(answer["call_id"]))
                    return
                if status is None:
                    f.errors[str(answer)] += 1
                else:
                    f.statuses[str(status)] += 1
                    if status in RETRYABLE and "Retry-After" not in response_headers:
                        f.missing_retry_after += 1
                    if status in RETRYABLE and isinstance(answer, dict):
                        f.messages[f"{answer.get('error')}: {answer.get('message')}"] += 1
                    if status not in RETRYABLE:
                        # Retrying cannot help a refusal: the call is lost to this client.
                        f.failures.append(f"{status}: {str(answer)[:200]}")
                        f.unresolved += 1
                        return
                f.first_fault = now if f.first_fault is None else f.first_fault
                f.last_fault = now
                f.first_success_after_fault = None
            if time.monotonic() - began > self.give_up_after:
                with self._lock:
                    self.figures.unresolved += 1
                return
            # Honour Retry-After, but a drill need not wait the full 5 s to show it works.
            time.sleep(0.3)

    def _attempt(self, body: dict[str, str], headers: dict[str, str]):
        try:
            return post_json(f"{self.url}/api/v1/calls", body, headers, timeout=20)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return None, _kind(reason), {}


def _kind(exc: object) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError):
        return "reset"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "disconnected"
    return type(exc).__name__


def get(url: str, opener: urllib.request.OpenerDirector | None = None, timeout: float = 10):
    """(status, text, headers) of a GET; never raises for an HTTP status."""
    open_ = (opener or urllib.request.build_opener()).open
    try:
        with open_(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace"), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace"), exc.headers


def logged_in(url: str, username: str = "calltaker") -> urllib.request.OpenerDirector:
    """A browser-like session of a demo user (cookies, the log-in form's CSRF token)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    _, page, _ = get(f"{url}/login", opener)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = {"username": username, "password": PASSWORD}
    if token:
        form["csrf_token"] = token.group(1)
    data = urllib.parse.urlencode(form).encode()
    with opener.open(urllib.request.Request(f"{url}/login", data=data), timeout=10):
        pass
    return opener


_BASE = "hotline_drill_faults_base"
_base_keys: dict[str, str] = {}


def prepared_copy(name: str) -> tuple[str, dict[str, str]]:
    """A fresh database with the demo city and API keys, copied from one prepared per run:
    migrating and seeding takes half a minute here, copying a template about a second."""
    if not _base_keys:
        _base_keys.update(prepare(fresh_database(_BASE)))
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            # A template must have no sessions: prepare()'s pool in this process keeps one.
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{_BASE}' AND pid <> pg_backend_pid()"
            )
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{_BASE}"')
    finally:
        admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", dict(_base_keys)


def wait_for(predicate, timeout: float, step: float = 0.2) -> float | None:
    """Seconds until ``predicate()`` held, or None after ``timeout``."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            if predicate():
                return time.monotonic() - began
        except Exception:  # the thing waited for is down: that is why we wait
            pass
        time.sleep(step)
    return None


def utc_now() -> datetime:
    return datetime.now(UTC)
