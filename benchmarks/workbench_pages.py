"""Workbench pages at 1,000,000 tickets (issue 6): the agency inbox and the ticket page.

A standalone script, not a test. Target: ``GET /`` and ``GET /tickets/<id>`` render with
p95 <= 100 ms for a logged-in agency staff user (and a supervisor, whose inbox covers every
ticket) with 1,000,000 tickets in PostgreSQL.

Run from the project root::

    .venv/bin/python benchmarks/workbench_pages.py                       # seed 1M, measure
    .venv/bin/python benchmarks/workbench_pages.py --tickets 20000 --runs 30   # smoke run
    .venv/bin/python benchmarks/workbench_pages.py --reuse --explain     # measure again
    .venv/bin/python benchmarks/workbench_pages.py --reuse --wrk         # plus gunicorn + wrk

The database (default ``hotline_bench_pages``) is dropped and recreated, migrated with
``hotline.migrate.upgrade`` and loaded by ``ticket_store.load`` (COPY, lifecycle-consistent
histories, Zipf-like agency sizes) with its state mix narrowed to ``--open-share`` open tickets.
Set-based SQL then adds what the pages read besides tickets and events: 协办 / 传阅 links in
ticket_agencies, 预警 / 超期 rows in ticket_alerts (every overdue open ticket, the yellow ones,
a share of finished ones) with a notification each (those of the last two days unread), and
a few open tickets of the biggest agency that reach ~10 events through 催办 / 督办 steps (the
ticket page's subject). Then VACUUM (ANALYZE). ``--reuse`` skips all that and only applies any
newer migration to the kept database (and ANALYZEs), to measure a fix without reloading.

Measured in-process with the Flask test client (create_app on the bench database, TESTING,
CSRF off, a FixedClock at the data's "now"), logged in once as the biggest agency's staff user
and once as the supervisor: ``--runs`` requests per page after ``--warmup`` untimed ones, with
the time spent in SQL (cursor execute to return) beside the wall time. ``--explain`` prints
EXPLAIN (ANALYZE, BUFFERS) of each page's statements that take longer than 2 ms; ``--wrk``
serves the staff inbox with gunicorn and drives it with wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

import ticket_store  # noqa: E402
from ticket_store import NOW, STATE_WEIGHTS, Timing  # noqa: E402

from hotline import create_app  # noqa: E402
from hotline.domain.clock import FixedClock  # noqa: E402
from hotline.domain.policies import load_policies  # noqa: E402
from hotline.extensions import db  # noqa: E402
from hotline.migrate import upgrade  # noqa: E402
from hotline.models.engine import make_engine  # noqa: E402
from hotline.services.directory import hash_password  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hotline_bench_pages"
PASSWORD = "bench-password-1"
STAFF = "staff1"  # ticket_store: one staff user per agency; agency 1 is the biggest
SUPERVISOR = "supervisor"
BIG_AGENCY = 1
TARGET_P95_MS = 100.0
PAGE_TICKETS = 20  # open tickets of the big agency brought to ~10 events for the ticket page
PAGE_EVENTS = 10


# --------------------------------------------------------------------------------------------
# Seeding


def open_share_weights(share: float) -> dict[Any, float]:
    """ticket_store's state mix with the open states scaled so they make ``share`` of all."""
    finished = sum(w for s, w in STATE_WEIGHTS.items() if not s.is_open)
    opened = sum(w for s, w in STATE_WEIGHTS.items() if s.is_open)
    factor = share * finished / ((1 - share) * opened)
    return {s: w * factor if s.is_open else w for s, w in STATE_WEIGHTS.items()}


@contextmanager
def state_mix(weights: dict[Any, float]) -> Iterator[None]:
    saved = ticket_store.STATE_WEIGHTS
    ticket_store.STATE_WEIGHTS = weights
    try:
        yield
    finally:
        ticket_store.STATE_WEIGHTS = saved


# 协办 (assisting) on ~6 % of dispatched tickets, 传阅 (informed) on ~3 %, never the lead itself.
LINKS_SQL = """
INSERT INTO ticket_agencies (ticket_id, agency_id, role)
SELECT id, 1 + (lead_agency_id + (hashint8extended(id, :seed) & 1023) % (:n - 1)) % :n,
       CASE WHEN f < :assisting THEN 'assisting' ELSE 'informed' END
FROM (SELECT id, lead_agency_id,
             (hashint8extended(id, :seed + 1) & 16777215)::float8 / 16777216 AS f
      FROM tickets WHERE lead_agency_id IS NOT NULL) s
WHERE f < :assisting + :informed
"""

# What the deadline sweep would have recorded: 预警 for yellow and red open tickets, 超期 for
# red ones, and for a share of finished tickets a warning and an overdue in their past.
ALERTS_SQL = """
CREATE TEMP TABLE seeded_alerts ON COMMIT DROP AS
WITH o AS (
    SELECT id, lead_agency_id, next_due_at AS due,
           extract(epoch FROM COALESCE(dispatched_at, created_at)) AS s,
           extract(epoch FROM next_due_at) AS d
    FROM tickets WHERE is_open AND next_due_at IS NOT NULL
)
SELECT id, lead_agency_id, 'warning' AS kind, due,
       to_timestamp(s + (d - s) * :share) AS recorded_at
FROM o WHERE s + (d - s) * :share <= :now AND d > s
UNION ALL
SELECT id, lead_agency_id, 'overdue', due, due + interval '1 minute'
FROM o WHERE d < :now - 60
UNION ALL
SELECT id, lead_agency_id, k.kind, closed_at - interval '12 hours',
       closed_at - CASE k.kind WHEN 'warning' THEN interval '1 day'
                               ELSE interval '719 minutes' END
FROM tickets, (VALUES ('warning'), ('overdue')) AS k(kind)
WHERE NOT is_open AND lead_agency_id IS NOT NULL AND closed_at IS NOT NULL
  AND (hashint8extended(id, :seed + 2) & 16777215)::float8 / 16777216 < :late_share
"""

NOTIFICATIONS_SQL = """
INSERT INTO notifications (agency_id, ticket_id, kind, message, created_at, read_at)
SELECT lead_agency_id, id, kind,
       '工单 ' || id || CASE kind WHEN 'warning' THEN ' 即将超期' ELSE ' 已超期' END,
       recorded_at,
       CASE WHEN recorded_at > to_timestamp(:now) - interval '2 days' THEN NULL
            ELSE recorded_at + interval '2 hours' END
FROM seeded_alerts WHERE lead_agency_id IS NOT NULL ORDER BY recorded_at
"""

# The ticket page's subjects: open tickets of the big agency in 办理中 (催办 / 督办 allowed)
# whose history grows to PAGE_EVENTS steps, spaced evenly up to "now"; the version follows.
LONG_HISTORY_SQL = """
CREATE TEMP TABLE long_history ON COMMIT DROP AS
SELECT id, version, updated_at FROM tickets
WHERE lead_agency_id = :agency AND state = 'in_progress' AND version < :events
ORDER BY id LIMIT :n;
INSERT INTO ticket_events (ticket_id, seq, occurred_at, action, from_state, to_state,
                           actor_id, actor_role, agency_id, payload)
SELECT p.id, g.seq,
       p.updated_at + (:now_ts - p.updated_at) * ((g.seq - p.version)::float8
                                                  / (:events - p.version + 1)),
       CASE WHEN g.seq % 2 = 0 THEN 'chase' ELSE 'supervise' END,
       'in_progress', 'in_progress', 2, 'supervisor', :agency,
       jsonb_build_object('note', '请尽快办理并反馈，第 ' || g.seq || ' 次提醒')
FROM long_history p, generate_series(p.version + 1, :events) AS g(seq);
UPDATE tickets t SET version = :events,
       updated_at = (SELECT max(occurred_at) FROM ticket_events e WHERE e.ticket_id = t.id)
FROM long_history p WHERE t.id = p.id;
"""


@dataclass
class Seeded:
    load: ticket_store.LoadResult
    extras_seconds: float
    analyze_seconds: float
    counts: dict[str, int]
    size_bytes: int


def seed(url: str, args: argparse.Namespace) -> Seeded:
    target = ticket_store.prepare_target(url, keep=True, recreate=True)
    upgrade(target.url)
    engine = make_engine(target.url)
    try:
        load_args = argparse.Namespace(
            tickets=args.tickets,
            agencies=args.agencies,
            events_per_ticket=args.events_per_ticket,
            seed=args.seed,
            batch=20_000,
            pg_load="copy",
        )
        with state_mix(open_share_weights(args.open_share)):
            loaded = ticket_store.load(engine, target, load_args)
        t0 = time.perf_counter()
        share = load_policies(ROOT / "deadline_policies.yaml").warning_share
        params = {
            "seed": args.seed,
            "n": args.agencies,
            "assisting": 0.06,
            "informed": 0.03,
            "share": share,
            "now": NOW.timestamp(),
            "now_ts": NOW,
            "late_share": 0.06,
            "agency": BIG_AGENCY,
            "events": PAGE_EVENTS,
        }
        with engine.begin() as conn:
            conn.execute(sa.text(LINKS_SQL), params)
            conn.execute(sa.text(ALERTS_SQL), params)
            conn.execute(
                sa.text(
                    "INSERT INTO ticket_alerts (ticket_id, kind, due_at, recorded_at) "
                    "SELECT id, kind, due, recorded_at FROM seeded_alerts"
                )
            )
            conn.execute(sa.text(NOTIFICATIONS_SQL), params)
            for statement in LONG_HISTORY_SQL.split(";"):
                if statement.strip():
                    conn.execute(sa.text(statement), params)
            conn.execute(
                sa.text("UPDATE users SET password_hash = :h WHERE username IN (:a, :b)"),
                {"h": hash_password(PASSWORD), "a": STAFF, "b": SUPERVISOR},
            )
        extras = time.perf_counter() - t0
        t0 = time.perf_counter()
        ticket_store.analyze(engine)
        analyzed = time.perf_counter() - t0
        return Seeded(loaded, extras, analyzed, table_counts(engine), database_size(engine))
    finally:
        engine.dispose()


def table_counts(engine: sa.Engine) -> dict[str, int]:
    queries = {
        "tickets": "SELECT count(*) FROM tickets",
        "open tickets": "SELECT count(*) FROM tickets WHERE is_open",
        "open overdue": f"SELECT count(*) FROM tickets WHERE is_open AND next_due_at < "
        f"'{NOW.isoformat()}'",
        "big agency tickets": f"SELECT count(*) FROM tickets WHERE lead_agency_id = {BIG_AGENCY}",
        "big agency open": f"SELECT count(*) FROM tickets WHERE lead_agency_id = {BIG_AGENCY} "
        "AND is_open",
        "ticket_events": "SELECT count(*) FROM ticket_events",
        "ticket_agencies": "SELECT count(*) FROM ticket_agencies",
        "ticket_alerts": "SELECT count(*) FROM ticket_alerts",
        "notifications": "SELECT count(*) FROM notifications",
        "unread notifications": "SELECT count(*) FROM notifications WHERE read_at IS NULL",
    }
    with engine.connect() as conn:
        return {name: int(conn.exec_driver_sql(q).scalar() or 0) for name, q in queries.items()}


def database_size(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar())


def reuse(url: str) -> dict[str, int]:
    """Bring a kept bench database to the newest schema (an index fix) and refresh statistics."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not conn.exec_driver_sql("SELECT count(*) FROM tickets").scalar():
                raise SystemExit(f"{url} has no tickets: run without --reuse first")
        ticket_store.analyze(engine)
        return table_counts(engine)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------
# Measuring


@dataclass
class PageResult:
    who: str
    name: str
    path: str
    runs: int
    wall: Timing
    sql: Timing  # time inside cursor.execute per request
    statements: float  # per request
    bytes: int
    explain: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.wall.p95 <= TARGET_P95_MS


class SqlClock:
    """Time spent in the driver per request, and the statements of the last request."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.seconds = 0.0
        self.count = 0
        self.statements: list[tuple[str, Any, float]] = []
        self._t0: list[float] = []

    def __enter__(self) -> SqlClock:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.seconds, self.count, self.statements = 0.0, 0, []

    def _before(self, *_args: Any) -> None:
        self._t0.append(time.perf_counter())

    def _after(self, _conn: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        elapsed = time.perf_counter() - self._t0.pop()
        self.seconds += elapsed
        self.count += 1
        self.statements.append((statement, params, elapsed))


def login(client: Any, username: str) -> None:
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"log-in as {username} failed: {response.status_code}")


def pick_subjects(engine: sa.Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        tickets = [
            int(r[0])
            for r in conn.execute(
                sa.text(
                    "SELECT t.id FROM tickets t WHERE t.lead_agency_id = :a AND t.is_open "
                    "AND (SELECT count(*) FROM ticket_events e WHERE e.ticket_id = t.id) "
                    ">= :k ORDER BY t.id LIMIT :n"
                ),
                {"a": BIG_AGENCY, "k": PAGE_EVENTS, "n": PAGE_TICKETS},
            )
        ]
        category = conn.scalar(
            sa.text(
                "SELECT category_level1 FROM tickets WHERE lead_agency_id = :a AND is_open "
                "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
            ),
            {"a": BIG_AGENCY},
        )
        district = conn.scalar(
            sa.text("SELECT district FROM calls WHERE district IS NOT NULL LIMIT 1")
        )
    if not tickets:
        raise SystemExit("no open ticket with a long history in the bench database")
    return {"tickets": tickets, "category": category, "district": district}


def pages(subjects: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(who, name, paths): the paths of a page are requested in turn."""
    q = urllib.parse.urlencode
    tickets = [f"/tickets/{t}" for t in subjects["tickets"]]
    common = [
        ("inbox", ["/"]),
        ("inbox overdue", ["/?overdue=1"]),
        ("inbox category", ["/?" + q({"category": subjects["category"]})]),
        ("inbox district", ["/?" + q({"district": subjects["district"]})]),
        ("inbox level=red", ["/?level=red"]),
        ("inbox page 5", ["/?page=5"]),
        ("ticket page", tickets),
    ]
    staff = [("staff", n, p) for n, p in common]
    staff.insert(6, ("staff", "inbox 协办/传阅 tab", ["/?tab=involved"]))
    return staff + [("supervisor", n, p) for n, p in common]


def measure(args: argparse.Namespace, url: str) -> tuple[list[PageResult], dict[str, Any]]:
    app = create_app(
        {
            "DATABASE_URL": url,
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "workbench-pages-bench",
            "CLOCK": FixedClock(NOW),
        }
    )
    with app.app_context():
        engine = db.engine(app)
    subjects = pick_subjects(engine)
    clients = {}
    for who, username in (("staff", STAFF), ("supervisor", SUPERVISOR)):
        clients[who] = app.test_client()
        login(clients[who], username)
    results: list[PageResult] = []
    with SqlClock(engine) as sql_clock:
        for who, name, paths in pages(subjects):
            client = clients[who]
            for i in range(args.warmup):
                _get(client, paths[i % len(paths)])
            wall: list[float] = []
            in_sql: list[float] = []
            statements = 0
            size = 0
            for i in range(args.runs):
                path = paths[i % len(paths)]
                sql_clock.reset()
                t0 = time.perf_counter_ns()
                body = _get(client, path)
                wall.append((time.perf_counter_ns() - t0) / 1e6)
                in_sql.append(sql_clock.seconds * 1000)
                statements += sql_clock.count
                size = len(body)
            result = PageResult(
                who=who,
                name=name,
                path=paths[0],
                runs=args.runs,
                wall=Timing.of(wall),
                sql=Timing.of(in_sql),
                statements=statements / args.runs,
                bytes=size,
            )
            if args.explain:
                result.explain = explain(engine, sql_clock.statements)
            results.append(result)
            print(
                f"  {who:<10} {name:<20} p50 {result.wall.p50:7.1f}  p95 {result.wall.p95:7.1f}"
                f"  p99 {result.wall.p99:7.1f} ms  (SQL p50 {result.sql.p50:6.1f} ms, "
                f"{result.statements:.0f} statements)  {'ok' if result.ok else 'OVER'}",
                flush=True,
            )
            for plan in result.explain:
                print(f"      -- {plan['ms']:.1f} ms: {plan['sql'][:160]}")
                print("\n".join("         " + line for line in plan["plan"].splitlines()))
    engine.dispose()
    return results, subjects


def _get(client: Any, path: str) -> bytes:
    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: {response.status_code}")
    return response.data


def explain(engine: sa.Engine, statements: list[tuple[str, Any, float]]) -> list[dict[str, Any]]:
    plans = []
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement, params, seconds in statements:
            if seconds < 0.002 or not statement.lstrip().upper().startswith("SELECT"):
                continue
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            plan = "\n".join(row[0] for row in cur.fetchall())
            plans.append({"ms": seconds * 1000, "sql": " ".join(statement.split()), "plan": plan})
        raw.rollback()
    finally:
        raw.close()
    return plans


# --------------------------------------------------------------------------------------------
# gunicorn + wrk (optional)


def wrk_inbox(url: str, args: argparse.Namespace) -> dict[str, Any] | None:
    if not shutil.which("wrk"):
        print("  wrk not installed: skipped")
        return None
    port = 8766
    env = dict(
        os.environ,
        DATABASE_URL=url,
        HOTLINE_SECRET_KEY="workbench-pages-bench",
        HOTLINE_BENCH_NOW=NOW.isoformat(),
    )
    # A tiny WSGI module: the app with the bench clock (deadlines relative to the data).
    tmp = Path(tempfile.mkdtemp(prefix="hotline-pages-"))
    (tmp / "bench_wsgi.py").write_text(
        "import os\nfrom datetime import datetime\n"
        "from hotline import create_app\nfrom hotline.domain.clock import FixedClock\n"
        "app = create_app({'CLOCK': FixedClock(datetime.fromisoformat("
        "os.environ['HOTLINE_BENCH_NOW']))})\n"
    )
    env["PYTHONPATH"] = f"{tmp}:{ROOT}"
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "bench_wsgi:app",
        ],
        cwd=tmp,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/login", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        cookie = _login_cookie(base)
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{args.connections}",
                f"-d{args.wrk_seconds}s",
                "--latency",
                "-H",
                f"Cookie: {cookie}",
                base + "/",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        print("\n".join("    " + line for line in out.splitlines()))
        latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
        rps = re.search(r"Requests/sec:\s+(\S+)", out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        return {
            "workers": args.workers,
            "connections": args.connections,
            "seconds": args.wrk_seconds,
            "latency": latency,
            "requests_per_s": float(rps.group(1)) if rps else None,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


def _login_cookie(base: str) -> str:
    request = urllib.request.Request(
        base + "/login",
        data=urllib.parse.urlencode({"username": STAFF, "password": PASSWORD}).encode(),
        method="POST",
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_args: Any, **_kw: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(request)
    except urllib.error.HTTPError as exc:  # the 302 after a successful log-in
        response = exc
    cookies = response.headers.get_all("Set-Cookie") or []
    session = [c.split(";", 1)[0] for c in cookies if c.startswith("session=")]
    if not session:
        raise SystemExit(f"gunicorn log-in as {STAFF} gave no session cookie")
    return session[0]


# --------------------------------------------------------------------------------------------
# Report


def markdown(results: list[PageResult]) -> str:
    lines = [
        "| User | Page | p50 ms | p95 ms | p99 ms | SQL p50 / p95 ms | Statements | ≤ 100 ms |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.who} | {r.name} (`{r.path}`) | {r.wall.p50:.1f} | {r.wall.p95:.1f} "
            f"| {r.wall.p99:.1f} | {r.sql.p50:.1f} / {r.sql.p95:.1f} | {r.statements:.0f} "
            f"| {'yes' if r.ok else 'NO'} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database", default=DEFAULT_URL, help=f"PostgreSQL URL ({DEFAULT_URL})")
    p.add_argument("--tickets", type=int, default=1_000_000)
    p.add_argument("--agencies", type=int, default=24)
    p.add_argument("--open-share", type=float, default=0.04, help="share of open tickets")
    p.add_argument("--events-per-ticket", type=int, default=6)
    p.add_argument("--seed", type=int, default=20261122)
    p.add_argument("--runs", type=int, default=200, help="timed requests per page")
    p.add_argument("--warmup", type=int, default=20, help="untimed requests per page")
    p.add_argument("--reuse", action="store_true", help="measure the kept database again")
    p.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE slow statements")
    p.add_argument("--wrk", action="store_true", help="also the staff inbox under gunicorn")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--wrk-seconds", type=int, default=20)
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    args = p.parse_args(argv)
    if make_url(args.database).get_backend_name() != "postgresql":
        p.error("--database must be a postgresql:// URL")
    if not 0 < args.open_share < 1 or args.agencies < 2 or args.runs < 2:
        p.error("--open-share in (0, 1), --agencies >= 2, --runs >= 2")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = args.database
    cpu = _cpu_model()
    print(
        f"workbench pages benchmark: {url}; python {platform.python_version()}, SQLAlchemy "
        f"{sa.__version__}, psycopg {psycopg.__version__}; {os.cpu_count()} CPUs ({cpu})",
        flush=True,
    )
    seeded: Seeded | None = None
    if args.reuse:
        counts = reuse(url)
    else:
        print(
            f"seeding {args.tickets:,} tickets, {args.agencies} agencies, "
            f"{args.open_share:.0%} open ...",
            flush=True,
        )
        seeded = seed(url, args)
        counts = seeded.counts
        ld = seeded.load
        print(
            f"  loaded in {ld.seconds:,.0f} s ({ld.tickets_per_s:,.0f} tickets/s), extras "
            f"{seeded.extras_seconds:.0f} s, VACUUM ANALYZE {seeded.analyze_seconds:.0f} s, "
            f"size {seeded.size_bytes / 2**20:,.0f} MiB",
            flush=True,
        )
    print("  " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
    print(f"measuring {args.runs} requests per page after {args.warmup} warm-up ...", flush=True)
    results, subjects = measure(args, url)
    served = wrk_inbox(url, args) if args.wrk else None
    table = markdown(results)
    print(f"\n{datetime.now(UTC):%Y-%m-%d}, {cpu}, {os.cpu_count()} CPUs\n" + table)
    if args.json:
        payload = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "argv": sys.argv,
            "cpu": cpu,
            "counts": counts,
            "seeded": asdict(seeded) if seeded else None,
            "subjects": subjects,
            "results": [asdict(r) for r in results],
            "wrk": served,
            "markdown": table,
        }
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
        print(f"JSON written to {args.json}")
    return 0 if all(r.ok for r in results) else 1


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    raise SystemExit(main())
