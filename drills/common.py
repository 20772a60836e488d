"""The production setup on loopback, for drills: PostgreSQL, gunicorn workers, the scheduler.

``Stack`` makes a fresh database, migrates it, seeds the demo city (whose agencies the shipped
routing rules name), registers an API client for each hotline, and starts gunicorn and the
scheduler as real processes, so a drill can kill, restart and overload them. ``verdict`` runs
the store audit (``hotline check``) and compares it with what clients were told.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get(
    "HOTLINE_DRILL_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "hotline-demo"  # the demo seed's password for every user


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}"


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_database(name: str) -> str:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def prepare(db_url: str, *, tickets: int = 0) -> dict[str, str]:
    """Schema, demo city, one API client per hotline. Returns the API keys by hotline."""
    from hotline import create_app, migrate
    from hotline.demo.seed import seed_demo_city
    from hotline.extensions import db
    from hotline.services.context import Actor, Context
    from hotline.services.exchange import create_client

    migrate.upgrade(db_url)
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "drill"})
    keys: dict[str, str] = {}
    with app.app_context():
        clock = app.extensions["hotline.clock"]
        seed_demo_city(
            db.session, clock=clock, calendar=app.extensions["hotline.calendar"], tickets=tickets
        )
        ctx = Context(db=db.session, actor=Actor.system("drill"), now=clock.now())
        for hotline in ("110", "12345"):
            _, keys[hotline] = create_client(ctx, name=f"drill-{hotline}", hotline=hotline)
        db.session.commit()
    return keys


@dataclass
class Stack:
    """gunicorn and the scheduler against one database; start, kill and restart them."""

    db_url: str
    port: int = 0  # 0: a free port, so drills running side by side never answer each other
    workers: int = 3
    scheduler_interval: int = 5
    env: dict[str, str] = field(default_factory=dict)
    gunicorn: subprocess.Popen[bytes] | None = None
    schedulers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hotline-drill-")))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        metrics = self.logs / "metrics"
        metrics.mkdir(exist_ok=True)
        return {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "HOTLINE_SECRET_KEY": "drill",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            **self.env,
        }

    def start_web(self) -> None:
        if not self.port:
            self.port = free_port()
        log = (self.logs / "gunicorn.log").open("ab")
        self.gunicorn = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "5",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=self._env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.wait_until_up()

    def wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.logs}")

    def worker_pids(self) -> list[int]:
        assert self.gunicorn is not None
        out = subprocess.run(
            ["pgrep", "-P", str(self.gunicorn.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]

    def start_scheduler(self) -> subprocess.Popen[bytes]:
        log = (self.logs / f"scheduler-{len(self.schedulers)}.log").open("ab")
        process = subprocess.Popen(
            [str(BIN / "hotline"), "scheduler", "--interval", str(self.scheduler_interval)],
            cwd=ROOT,
            env=self._env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.schedulers.append(process)
        return process

    def stop(self) -> None:
        for process in [*self.schedulers, self.gunicorn]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.schedulers, self.gunicorn]:
            if process is not None:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


@contextmanager
def running(db_url: str, **options: object) -> Iterator[Stack]:
    stack = Stack(db_url, **options)  # type: ignore[arg-type]
    try:
        stack.start_web()
        yield stack
    finally:
        stack.stop()


def post_json(url: str, body: object, headers: dict[str, str], timeout: float = 10):
    """(status, parsed body or text, headers); never raises for an HTTP status."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, _parse(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, _parse(exc.read()), dict(exc.headers)


def _parse(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


@dataclass
class Verdict:
    ok: bool
    lines: list[str]


def verdict(db_url: str, ticketed: set[int], queued: set[int] = frozenset()) -> Verdict:
    """The store audit (``hotline check``), plus what only the clients know: every call they
    were told has a ticket has exactly one, and every call they were told waits for review is
    there without one. Portable SQL, so the SQLite drills use it too."""
    from hotline.models.engine import make_engine
    from hotline.services.consistency import check

    engine = make_engine(db_url)
    try:
        with sa.orm.Session(engine) as session:
            report = check(session)
            lines, ok = report.lines(), report.ok
            found = _tickets_per_call(session, ticketed | set(queued))
    finally:
        engine.dispose()
    missing = (ticketed | set(queued)) - set(found)
    wrong = [i for i in ticketed if found.get(i, 1) != 1]
    wrong += [i for i in queued if found.get(i, 0) != 0]
    lines.append(
        f"accepted by the API: {len(ticketed) + len(queued)} ({len(ticketed)} with a ticket, "
        f"{len(queued)} queued for review), in the store: {len(found)}, missing: "
        f"{len(missing)}, with the wrong number of tickets: {len(wrong)}"
    )
    return Verdict(ok and not missing and not wrong, lines)


def _tickets_per_call(session: sa.orm.Session, call_ids: set[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    ids = sorted(call_ids)
    query = sa.text(
        "SELECT c.id, count(t.id) FROM calls c LEFT JOIN tickets t "
        "ON t.call_id = c.id WHERE c.id IN :ids GROUP BY c.id"
    ).bindparams(sa.bindparam("ids", expanding=True))
    for start in range(0, len(ids), 500):
        rows = session.execute(query, {"ids": ids[start : start + 500]}).all()
        found.update({call_id: n for call_id, n in rows})
    return found
