"""Ticket store benchmark: bulk-load N tickets, then time the agency inbox and the deadline sweep.

A standalone script, not a test. It builds the real schema with ``hotline.migrate.upgrade``
(constraints, indexes and the append-only triggers included), loads synthetic but
lifecycle-consistent data, runs ANALYZE, and times ``hotline.services.queries.agency_inbox``
and ``due_before`` exactly as the application calls them.

Run from the project root::

    .venv/bin/python benchmarks/ticket_store.py                      # 1,000,000 tickets, both DBs
    .venv/bin/python benchmarks/ticket_store.py --tickets 20000      # a quick smoke run
    .venv/bin/python benchmarks/ticket_store.py --database sqlite --json /tmp/bench.json
    .venv/bin/python benchmarks/ticket_store.py \\
        --database postgresql://postgres@127.0.0.1:5432/hotline_bench --keep

``--database`` is repeatable and accepts comma lists. ``sqlite`` means "a file in a fresh temp
directory" (removed at the end); an explicit ``sqlite:///path`` must not exist yet and is left
in place. A PostgreSQL database is created through the ``postgres`` maintenance database and
dropped at the end unless ``--keep``; an existing one is refused unless ``--recreate``, so the
script never loads into (or drops) somebody's data by accident. PostgreSQL is loaded with COPY
by default; ``--pg-load executemany`` uses the same Core ``insert()`` path as SQLite.

Reported: load time and rates, database size, and for each query p50/p95/p99/max over
``--runs`` calls of the application function (fresh Session per call), the same SQL on the raw
driver cursor, the number of full garbage collections during the runs, and the EXPLAIN
(ANALYZE on PostgreSQL) of the exact statement the application sent.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql
from psycopg.types.json import Jsonb
from sqlalchemy import event, insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hotline.domain import deadlines
from hotline.domain.lifecycle import PERMISSIONS, RECORDED_ACTIONS, TRANSITIONS, Action, TicketState
from hotline.domain.vocabulary import (
    AgencyKind,
    Channel,
    Direction,
    Hotline,
    Nature,
    Role,
    Satisfaction,
    Urgency,
)
from hotline.migrate import upgrade
from hotline.models import Base, Ticket
from hotline.models.engine import make_engine, normalise_url
from hotline.services.queries import agency_inbox, due_before

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/hotline_bench"

# The benchmark's "now": a Friday morning in Beijing. Open tickets' clocks are spread around it,
# so "due in the next hour" always finds overdue work and the sweep's LIMIT is reached.
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
HISTORY = timedelta(days=730)

S = TicketState
# Roughly a city hotline's all-time mix: most tickets finished, ~17 % still open, and of those
# ~12 % of all tickets on a running agency clock (the only ones with next_due_at).
STATE_WEIGHTS: dict[TicketState, float] = {
    S.ARCHIVED: 51.0,
    S.CLOSED: 30.0,
    S.MERGED: 2.0,
    S.IN_PROGRESS: 5.0,
    S.DISPATCHED: 3.0,
    S.SIGNED: 3.0,
    S.EXTENSION_REQUESTED: 0.7,
    S.SUSPENSION_REQUESTED: 0.3,
    S.RECEIVED: 1.0,
    S.RETURN_REQUESTED: 0.4,
    S.RETURNED: 0.3,
    S.SUSPENDED: 0.3,
    S.REPLIED: 1.2,
    S.AWAITING_FOLLOW_UP: 1.3,
    S.FOLLOWED_UP: 0.5,
}
# priority_rank 0 = critical, 1 = urgent, 2 = normal (Urgency.rank); most calls are normal.
RANK_WEIGHTS = {0: 3.0, 1: 12.0, 2: 85.0}
URGENCY_BY_RANK = {u.rank: u for u in Urgency}
# Who fires an action when several roles may: the most ordinary one.
ROLE_PREFERENCE = (Role.AGENCY_STAFF, Role.CALL_TAKER, Role.SUPERVISOR, Role.SYSTEM, Role.ADMIN)
# Users: these three, then one agency_staff user per agency with id 3 + agency id.
FIXED_USER_IDS = {Role.CALL_TAKER: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}

SUMMARIES = [
    "小区夜间施工噪音扰民，要求限制施工时间",
    "路灯损坏多日未修，夜间出行不便",
    "商户占道经营，影响行人通行",
    "楼道堆放杂物存在消防隐患",
    "供水管道破裂，路面积水严重",
    "咨询新生儿医保办理流程",
    "反映公交线路调整后换乘不便",
    "投诉物业公司擅自提高停车费",
    "举报餐馆后厨卫生条件差",
    "建议在学校周边增设减速带",
]
TRANSCRIPT = (
    "来电人反映：{s}。具体位置在{loc}附近，问题已持续约{d}天，此前曾向社区反映但未解决。"
    "来电人情绪较为激动，要求相关部门尽快核实处理并回复处理结果。话务员已告知办理时限。"
)
LOCATIONS = [
    "人民路与解放路交叉口",
    "幸福里小区3号楼",
    "滨江公园北门",
    "第二中学东侧",
    "高新区管委会",
]
DISTRICTS = ["城东区", "城西区", "城南区", "城北区", "高新区", "经开区"]
CATEGORIES = [
    ("城乡建设", "市政设施", "路灯"),
    ("生态环境", "噪声污染", "施工噪声"),
    ("市场监管", "食品安全", "餐饮服务"),
    ("城市管理", "市容环境", "占道经营"),
    ("社会保障", "医疗保险", "参保登记"),
    ("交通运输", "公共交通", "线路调整"),
    ("住房保障", "物业管理", "收费"),
]
NATURE_WEIGHTS = {
    Nature.COMPLAINT: 40.0,
    Nature.HELP: 25.0,
    Nature.CONSULTATION: 20.0,
    Nature.REPORT: 10.0,
    Nature.SUGGESTION: 5.0,
}


# --------------------------------------------------------------------------------------------
# Lifecycle-consistent histories


@dataclass(frozen=True)
class Step:
    action: Action
    from_state: TicketState | None
    to_state: TicketState
    role: Role


@dataclass(frozen=True)
class History:
    """One event log and the ticket columns it implies (indexes into ``steps`` for timestamps)."""

    state: TicketState
    steps: tuple[Step, ...]
    has_lead: bool
    has_deadlines: bool
    dispatch_idx: int | None
    signed_idx: int | None
    replied_idx: int | None
    closed_idx: int | None
    suspended_idx: int | None
    returns: int
    reopens: int
    extensions: int
    followed_up: bool


def _role_for(action: Action) -> Role:
    return next(r for r in ROLE_PREFERENCE if r in PERMISSIONS[action])


def _history(steps: tuple[Step, ...]) -> History | None:
    """Replay the column effects of hotline.services.tickets, or None where it would refuse.

    Keeps every ticket consistent with its own event log (dispatch sets the lead and the clocks,
    an approved return clears them, 重办 restarts them and needs a lead agency, ...).
    """
    has_lead = has_deadlines = followed_up = False
    dispatch = signed = replied = closed = suspended = None
    returns = reopens = extensions = 0
    for i, step in enumerate(steps):
        a = step.action
        if a is Action.DISPATCH:
            has_lead = has_deadlines = True
            dispatch, signed = i, None
        elif a is Action.APPROVE_RETURN:
            has_lead = has_deadlines = False
            returns += 1
        elif a is Action.SIGN_FOR or (a is Action.REJECT_RETURN and signed is None):
            signed = i
        elif a is Action.REPLY:
            replied = i
        elif a is Action.REJECT_REPLY:
            replied = None
        elif a is Action.ANSWER_DIRECTLY:
            replied = closed = i
        elif a in (Action.CLOSE, Action.MERGE):
            closed = i
        elif a is Action.APPROVE_EXTENSION:
            extensions += 1
        elif a is Action.APPROVE_SUSPENSION:
            suspended = i
        elif a is Action.RESUME:
            suspended = None
        elif a is Action.FOLLOW_UP:
            followed_up = True
        elif a is Action.REOPEN:
            if not has_lead:  # the service refuses 重办 of a directly answered ticket
                return None
            has_deadlines = True
            dispatch, signed, replied, closed = i, None, None, None
            reopens += 1
            extensions = 0
            followed_up = False
    return History(
        state=steps[-1].to_state,
        steps=steps,
        has_lead=has_lead,
        has_deadlines=has_deadlines,
        dispatch_idx=dispatch,
        signed_idx=signed,
        replied_idx=replied,
        closed_idx=closed,
        suspended_idx=suspended,
        returns=returns,
        reopens=reopens,
        extensions=extensions,
        followed_up=followed_up,
    )


def history_pools(
    events_per_ticket: int, rng: random.Random, per_state: int = 32
) -> dict[TicketState, list[History]]:
    """Random valid paths through ``TRANSITIONS`` per final state, as close to k events as allowed.

    Not every state is reachable in exactly k events (a closed ticket takes 2 or >= 6), so each
    state gets the nearest length that has valid paths; the real events per ticket is reported.
    """
    max_len = max(events_per_ticket, 2) + 8
    # reach[n]: states a ticket can be in after create plus exactly n transitions.
    reach: list[set[TicketState]] = [{S.RECEIVED}]
    for _ in range(max_len):
        reach.append({TRANSITIONS[k] for k in TRANSITIONS if k[0] in reach[-1]})
    predecessors: dict[TicketState, list[tuple[TicketState, Action]]] = {s: [] for s in S}
    for (src, action), dst in TRANSITIONS.items():
        predecessors[dst].append((src, action))
    create = Step(Action.CREATE, None, S.RECEIVED, _role_for(Action.CREATE))

    def sample(state: TicketState, n: int) -> History | None:
        # Walk backwards from the final state, only through states reachable at each depth,
        # preferring real progress over 催办/督办/通报 self-loops.
        backwards: list[Step] = []
        current = state
        for depth in range(n, 0, -1):
            options = [(s, a) for s, a in predecessors[current] if s in reach[depth - 1]]
            weights = [0.15 if a in RECORDED_ACTIONS else 1.0 for _, a in options]
            src, action = rng.choices(options, weights)[0]
            backwards.append(Step(action, src, current, _role_for(action)))
            current = src
        return _history((create, *reversed(backwards)))

    pools: dict[TicketState, list[History]] = {}
    for state in STATE_WEIGHTS:
        lengths = sorted(
            (n for n in range(max_len + 1) if state in reach[n]),
            key=lambda m: (abs(m + 1 - events_per_ticket), m),
        )
        for n in lengths:
            found = [h for h in (sample(state, n) for _ in range(20 * per_state)) if h]
            if found:
                pools[state] = found[:per_state]
                break
        else:
            raise RuntimeError(f"no valid history ends in {state.value}")
    return pools


# --------------------------------------------------------------------------------------------
# Data generation


@dataclass
class Batch:
    calls: list[dict[str, Any]]
    tickets: list[dict[str, Any]]
    events: list[dict[str, Any]]

    @property
    def rows(self) -> int:
        return len(self.calls) + len(self.tickets) + len(self.events)


class Generator:
    """Deterministic for a seed, so every database gets byte-for-byte the same tickets."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.rng = random.Random(args.seed)
        self.n_agencies: int = args.agencies
        self.pools = history_pools(args.events_per_ticket, self.rng)
        self.states = list(STATE_WEIGHTS)
        self.state_cum = _cumulative(STATE_WEIGHTS.values())
        self.ranks = list(RANK_WEIGHTS)
        self.rank_cum = _cumulative(RANK_WEIGHTS.values())
        self.natures = list(NATURE_WEIGHTS)
        self.nature_cum = _cumulative(NATURE_WEIGHTS.values())
        # A few big departments get most of the work (Zipf-like), as in real hotlines.
        self.agency_ids = list(range(1, self.n_agencies + 1))
        self.agency_cum = _cumulative(1 / (i**0.8) for i in self.agency_ids)
        self.transcripts = [
            TRANSCRIPT.format(s=s, loc=loc, d=d)
            for s in SUMMARIES
            for loc in LOCATIONS
            for d in (1, 3, 7, 30)
        ]
        self.next_event_id = 1

    def agencies(self) -> list[dict[str, Any]]:
        kinds = [k for k in AgencyKind if k is not AgencyKind.HOTLINE_CENTER]
        return [
            {
                "id": a,
                "code": f"A{a:04d}",
                "name": f"承办单位{a:04d}",
                "kind": kinds[a % len(kinds)],
                "parent_id": None,
                "district": DISTRICTS[a % len(DISTRICTS)],
                "contact_name": f"联系人{a}",
                "contact_phone": f"0571{a:07d}",
                "is_active": True,
                "created_at": NOW - HISTORY - timedelta(days=30),
            }
            for a in self.agency_ids
        ]

    def users(self) -> list[dict[str, Any]]:
        rows: list[tuple[int, str, Role, int | None]] = [
            (uid, role.value, role, None) for role, uid in FIXED_USER_IDS.items()
        ]
        rows += [(3 + a, f"staff{a}", Role.AGENCY_STAFF, a) for a in self.agency_ids]
        return [
            {
                "id": uid,
                "username": name,
                "display_name": name,
                "role": role,
                "agency_id": agency,
                "password_hash": "!",
                "is_active": True,
                "created_at": NOW - HISTORY,
            }
            for uid, name, role, agency in rows
        ]

    def batches(self, total: int, size: int) -> Iterator[Batch]:
        for start in range(1, total + 1, size):
            yield self.batch(start, min(start + size, total + 1))

    def batch(self, first_id: int, end_id: int) -> Batch:
        rng = self.rng
        states = rng.choices(self.states, cum_weights=self.state_cum, k=end_id - first_id)
        calls: list[dict[str, Any]] = []
        tickets: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for tid, state in zip(range(first_id, end_id), states, strict=True):
            hist = rng.choice(self.pools[state])
            k = len(hist.steps)
            rank = rng.choices(self.ranks, cum_weights=self.rank_cum)[0]
            nature = rng.choices(self.natures, cum_weights=self.nature_cum)[0]
            lead = rng.choices(self.agency_ids, cum_weights=self.agency_cum)[0]

            # Event times lead up to the last event; finished tickets lie anywhere in two years
            # of history, open ones are recent.
            if not state.is_open:
                last = NOW - timedelta(seconds=rng.uniform(86400, HISTORY.total_seconds()))
            else:
                last = NOW - timedelta(seconds=rng.uniform(300, 3 * 86400))
            times = [last]
            for _ in range(k - 1):
                times.append(times[-1] - timedelta(seconds=rng.expovariate(1 / 14400)))
            times.reverse()

            dispatched_at = times[hist.dispatch_idx] if hist.dispatch_idx is not None else None
            sign_due = reply_due = None
            if hist.has_deadlines and dispatched_at is not None:
                sign_due = dispatched_at + timedelta(days=1)
                reply_due = dispatched_at + timedelta(days=7)
                # Spread the running clocks from a few days overdue to a few weeks ahead;
                # sign-for windows are short, reply windows long.
                if state is S.DISPATCHED:
                    sign_due = NOW + timedelta(seconds=rng.uniform(-2 * 86400, 86400))
                elif state.is_open:
                    reply_due = NOW + timedelta(seconds=rng.uniform(-3 * 86400, 21 * 86400))
            # The application's own rule decides which clock, if any, is the ticket's next one.
            next_due = deadlines.next_due(state, sign_due, reply_due)

            created = times[0]
            received = created - timedelta(seconds=rng.uniform(60, 900))
            hotline = Hotline.POLICE_110 if rng.random() < 0.08 else Hotline.SERVICE_12345
            summary_i = rng.randrange(len(self.transcripts))
            category = CATEGORIES[tid % len(CATEGORIES)]
            calls.append(
                {
                    "id": tid,
                    "hotline": hotline,
                    "channel": Channel.PHONE if rng.random() < 0.85 else Channel.ONLINE,
                    "caller_number": f"1{rng.randrange(3 * 10**9, 10**10):010d}",
                    "caller_name": None,
                    "location_text": LOCATIONS[tid % len(LOCATIONS)],
                    "district": DISTRICTS[tid % len(DISTRICTS)],
                    "transcript": self.transcripts[summary_i],
                    "received_at": received,
                    "nature": nature,
                    "urgency": URGENCY_BY_RANK[rank],
                    "is_confidential": False,
                    "created_by_id": 1,
                    "created_at": received,
                }
            )
            tickets.append(
                {
                    "id": tid,
                    "call_id": tid,
                    "direction": (
                        Direction.TO_12345 if hotline is Hotline.POLICE_110 else Direction.INTERNAL
                    ),
                    "source_hotline": hotline,
                    "summary": SUMMARIES[summary_i // (len(self.transcripts) // len(SUMMARIES))],
                    "category_level1": category[0],
                    "category_level2": category[1],
                    "category_level3": category[2],
                    "district": DISTRICTS[tid % len(DISTRICTS)],
                    "priority_rank": rank,
                    "state": state,
                    "is_open": state.is_open,
                    "lead_agency_id": lead if hist.has_lead else None,
                    # Only the shape matters here (a real FK to an earlier ticket).
                    "merged_into_id": tid - 1 if state is S.MERGED and tid > 1 else None,
                    "created_at": created,
                    "updated_at": times[-1],
                    "dispatched_at": dispatched_at,
                    "signed_at": _at(times, hist.signed_idx),
                    "replied_at": _at(times, hist.replied_idx),
                    "closed_at": _at(times, hist.closed_idx),
                    "sign_for_due_at": sign_due,
                    "reply_due_at": reply_due,
                    "next_due_at": next_due,
                    "suspended_at": _at(times, hist.suspended_idx),
                    "extension_working_days": 5 * hist.extensions,
                    "return_count": hist.returns,
                    "reopen_count": hist.reopens,
                    "satisfaction": (rng.choice(list(Satisfaction)) if hist.followed_up else None),
                    "version": k,
                }
            )
            for seq, (step, at) in enumerate(zip(hist.steps, times, strict=True), start=1):
                events.append(
                    {
                        "id": self.next_event_id,
                        "ticket_id": tid,
                        "seq": seq,
                        "occurred_at": at,
                        "action": step.action,
                        "from_state": step.from_state,
                        "to_state": step.to_state,
                        "actor_id": _actor(step.role, lead),
                        "actor_role": step.role,
                        "payload": (
                            {"lead_agency_id": lead} if step.action is Action.DISPATCH else {}
                        ),
                    }
                )
                self.next_event_id += 1
        return Batch(calls, tickets, events)


def _cumulative(weights: Iterable[float]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _at(times: list[datetime], idx: int | None) -> datetime | None:
    return times[idx] if idx is not None else None


def _actor(role: Role, lead: int) -> int | None:
    # System steps (e.g. 归档 by the scheduler) have no user behind them.
    if role is Role.AGENCY_STAFF:
        return 3 + lead
    return FIXED_USER_IDS.get(role)


# --------------------------------------------------------------------------------------------
# Databases


@dataclass
class Target:
    label: str
    url: str
    dialect: str
    cleanup: Callable[[], None] = lambda: None
    details: dict[str, Any] = field(default_factory=dict)


def _pg_admin(url: str) -> psycopg.Connection[Any]:
    u = make_url(url)
    return psycopg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        dbname="postgres",
        autocommit=True,
    )


def prepare_target(spec: str, keep: bool, recreate: bool) -> Target:
    if spec == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
        path = tmp / "bench.db"
        return Target(
            "SQLite",
            f"sqlite:///{path}",
            "sqlite",
            cleanup=lambda: shutil.rmtree(tmp, ignore_errors=True),
            details={"path": str(path)},
        )
    url = normalise_url(spec)
    dialect = make_url(url).get_backend_name()
    if dialect == "sqlite":
        path = make_url(url).database
        if path and path != ":memory:" and Path(path).exists():
            raise SystemExit(f"{path} exists; the benchmark only loads into an empty database")
        return Target("SQLite", url, "sqlite", details={"path": path})
    if dialect != "postgresql":
        raise SystemExit(f"unsupported database {spec!r}: use sqlite or postgresql URLs")
    name = make_url(url).database
    if not name:
        raise SystemExit(f"{spec!r} names no database")
    with _pg_admin(url) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not recreate:
            raise SystemExit(f"database {name!r} exists; drop it or pass --recreate")
        if exists:
            admin.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        if keep:
            print(f"keeping PostgreSQL database {name!r} (--keep)")
            return
        with _pg_admin(url) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))

    return Target("PostgreSQL", url, "postgresql", cleanup=drop, details={"database": name})


def server_version(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return str(conn.exec_driver_sql("SHOW server_version").scalar()).split()[0]
        return str(conn.exec_driver_sql("SELECT sqlite_version()").scalar())


def database_size(engine: sa.Engine, target: Target) -> int:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar())
        # Fold the WAL back in so the file size is the database, not a half-checkpointed log.
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return os.path.getsize(target.details["path"])


# --------------------------------------------------------------------------------------------
# Load


@dataclass
class LoadResult:
    tickets: int
    calls: int
    events: int
    rows: int
    seconds: float
    generate_seconds: float
    insert_seconds: float
    tickets_per_s: float
    rows_per_s: float
    method: str
    analyze_seconds: float
    size_bytes: int
    open_tickets: int
    with_next_due: int


def load(engine: sa.Engine, target: Target, args: argparse.Namespace) -> LoadResult:
    tables = Base.metadata.tables
    gen = Generator(args)
    counts = {"calls": 0, "tickets": 0, "events": 0}
    gen_s = ins_s = 0.0
    use_copy = engine.dialect.name == "postgresql" and args.pg_load == "copy"
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(tables["agencies"]), gen.agencies())
        conn.execute(insert(tables["users"]), gen.users())
    last_report = started
    batches = gen.batches(args.tickets, args.batch)
    while True:
        t0 = time.perf_counter()
        b = next(batches, None)
        if b is None:
            break
        gen_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        # One transaction per batch: what a bulk importer would do, and it keeps WAL bounded.
        with engine.begin() as conn:
            for name, rows in (
                ("calls", b.calls),
                ("tickets", b.tickets),
                ("ticket_events", b.events),
            ):
                if use_copy:
                    copy_rows(conn, tables[name], rows)
                else:
                    conn.execute(insert(tables[name]), rows)
        ins_s += time.perf_counter() - t0
        counts["calls"] += len(b.calls)
        counts["tickets"] += len(b.tickets)
        counts["events"] += len(b.events)
        now = time.perf_counter()
        if now - last_report > 15 or counts["tickets"] == args.tickets:
            elapsed = now - started
            print(
                f"  {target.label}: {counts['tickets']:>9,} tickets, "
                f"{sum(counts.values()):>10,} rows, {elapsed:6.1f} s, "
                f"{counts['tickets'] / elapsed:8,.0f} tickets/s",
                flush=True,
            )
            last_report = now
    seconds = time.perf_counter() - started
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Explicit ids bypass the sequences; move them on so the database stays usable.
            for table in ("agencies", "users", "calls", "tickets", "ticket_events"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    t0 = time.perf_counter()
    analyze(engine)
    analyze_s = time.perf_counter() - t0
    with engine.connect() as conn:
        open_n = conn.scalar(sa.select(sa.func.count()).where(Ticket.is_open.is_(True))) or 0
        due_n = conn.scalar(sa.select(sa.func.count()).where(Ticket.next_due_at.is_not(None))) or 0
    rows = sum(counts.values()) + args.agencies * 2 + 3
    return LoadResult(
        tickets=counts["tickets"],
        calls=counts["calls"],
        events=counts["events"],
        rows=rows,
        seconds=seconds,
        generate_seconds=gen_s,
        insert_seconds=ins_s,
        tickets_per_s=counts["tickets"] / seconds,
        rows_per_s=rows / seconds,
        method="COPY" if use_copy else "executemany",
        analyze_seconds=analyze_s,
        size_bytes=database_size(engine, target),
        open_tickets=open_n,
        with_next_due=due_n,
    )


def copy_rows(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL COPY of exactly the rows executemany would insert.

    Only SQLAlchemy's Python-side bind processing is skipped, which for these rows changes
    nothing (datetimes are already aware UTC, enum members are str); every CHECK, foreign key,
    index and trigger still runs in the server.
    """
    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    with driver.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row([Jsonb(v) if isinstance(v, dict) else v for v in row.values()])


def analyze(engine: sa.Engine) -> None:
    if engine.dialect.name == "postgresql":
        # VACUUM as well: a freshly loaded table would otherwise be vacuumed by autovacuum in
        # the middle of the timings (2 cores), and steady-state tables are vacuumed anyway.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


# --------------------------------------------------------------------------------------------
# Queries


@dataclass
class Timing:
    p50: float
    p95: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> Timing:
        q = statistics.quantiles(samples_ms, n=100, method="inclusive")
        return cls(
            p50=statistics.median(samples_ms),
            p95=q[94],
            p99=q[98],
            max=max(samples_ms),
            mean=statistics.fmean(samples_ms),
        )


@dataclass
class QueryResult:
    name: str
    description: str
    runs: int
    rows_mean: float
    app: Timing  # the hotline.services.queries function: SQL + ORM objects
    sql: Timing  # the very same SQL and parameters on the raw driver cursor
    index: str
    index_used: bool
    gc_full_collections: int
    sql_text: str
    explain: str


QueryCall = Callable[[Session], list[Ticket]]


def time_query(
    engine: sa.Engine,
    name: str,
    description: str,
    index: str,
    calls: list[QueryCall],
    warmup: int,
) -> QueryResult:
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if "FROM tickets" in statement:
            captured.append((statement, parameters))

    for call in calls[:warmup]:
        with Session(engine) as db:
            call(db)

    app_ms: list[float] = []
    rows: list[int] = []
    statements: list[tuple[str, Any]] = []
    # Full (generation 2) collections pause the process for tens of milliseconds; they are real
    # in a long-running app too, so they stay in the timings but are counted to explain the tail.
    gc.collect()
    full_before = gc.get_stats()[2]["collections"]
    event.listen(engine, "before_cursor_execute", capture)
    try:
        for call in calls[warmup:]:
            # A fresh session per run, like a web request: no identity map carried over.
            with Session(engine) as db:
                t0 = time.perf_counter_ns()
                result = call(db)
                app_ms.append((time.perf_counter_ns() - t0) / 1e6)
                rows.append(len(result))
            statements.append(captured[-1])
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    full_collections = gc.get_stats()[2]["collections"] - full_before

    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        sql_ms: list[float] = []
        for statement, params in statements:
            t0 = time.perf_counter_ns()
            cur.execute(statement, params)
            cur.fetchall()
            sql_ms.append((time.perf_counter_ns() - t0) / 1e6)
        statement, params = statements[0]
        if engine.dialect.name == "postgresql":
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            plan = "\n".join(row[0] for row in cur.fetchall())
        else:
            cur.execute("EXPLAIN QUERY PLAN " + statement, params)
            plan = "\n".join(str(row[-1]) for row in cur.fetchall())
        raw.rollback()
    finally:
        raw.close()
    return QueryResult(
        name=name,
        description=description,
        runs=len(app_ms),
        rows_mean=statistics.fmean(rows),
        app=Timing.of(app_ms),
        sql=Timing.of(sql_ms),
        index=index,
        index_used=index in plan,
        gc_full_collections=full_collections,
        sql_text=statements[0][0],
        explain=plan,
    )


def bench_queries(engine: sa.Engine, args: argparse.Namespace) -> list[QueryResult]:
    rng = random.Random(args.seed + 1)
    n = args.warmup + args.runs
    # Varied moments within a day of NOW; every one has more than 1,000 overdue tickets before it.
    moments = [NOW + timedelta(hours=1, seconds=rng.uniform(-43200, 43200)) for _ in range(n)]
    agencies = [rng.randint(1, args.agencies) for _ in range(n)]
    due_calls: list[QueryCall] = [lambda db, m=m: due_before(db, m, limit=1000) for m in moments]
    inbox_calls: list[QueryCall] = [lambda db, a=a: agency_inbox(db, a, limit=50) for a in agencies]
    return [
        time_query(
            engine,
            "due_next_hour",
            "due_before(db, now + 1h, limit=1000)",
            "ix_tickets_next_due_at",
            due_calls,
            args.warmup,
        ),
        time_query(
            engine,
            "agency_inbox",
            "agency_inbox(db, agency_id, limit=50)",
            "ix_tickets_inbox",
            inbox_calls,
            args.warmup,
        ),
    ]


# --------------------------------------------------------------------------------------------
# Reporting


@dataclass
class DatabaseResult:
    label: str
    version: str
    load: LoadResult
    queries: list[QueryResult]


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def markdown(results: list[DatabaseResult]) -> str:
    lines = [
        "| Database | Load via | Tickets | Rows (all tables) | Events/ticket | Load time "
        "| Tickets/s | Rows/s | Size |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        ld = r.load
        lines.append(
            f"| {r.label} {r.version} | {ld.method} | {ld.tickets:,} | {ld.rows:,} "
            f"| {ld.events / ld.tickets:.2f} | {ld.seconds:,.0f} s | {ld.tickets_per_s:,.0f} "
            f"| {ld.rows_per_s:,.0f} | {_mib(ld.size_bytes)} |"
        )
    lines += [
        "",
        "| Database | Query | Rows | p50 ms | p95 ms | p99 ms | max ms | SQL-only p50 / p95 ms "
        "| Full GCs | Index used |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for q in r.queries:
            lines.append(
                f"| {r.label} | `{q.description}` | {q.rows_mean:,.0f} | {q.app.p50:.2f} "
                f"| {q.app.p95:.2f} | {q.app.p99:.2f} | {q.app.max:.2f} "
                f"| {q.sql.p50:.2f} / {q.sql.p95:.2f} | {q.gc_full_collections} "
                f"| {'yes' if q.index_used else 'NO'} ({q.index}) |"
            )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--database",
        action="append",
        metavar="URL",
        help="sqlite, a sqlite:/// URL or a postgresql:// URL; repeatable or comma-separated "
        f"(default: sqlite and {DEFAULT_PG_URL})",
    )
    p.add_argument("--tickets", type=int, default=1_000_000)
    p.add_argument("--events-per-ticket", type=int, default=3)
    p.add_argument("--agencies", type=int, default=20)
    p.add_argument("--seed", type=int, default=20261122)
    p.add_argument("--batch", type=int, default=20_000, help="tickets per insert batch")
    p.add_argument(
        "--pg-load",
        choices=("copy", "executemany"),
        default="copy",
        help="how PostgreSQL is loaded: COPY (default) or Core insert() executemany as on SQLite",
    )
    p.add_argument("--runs", type=int, default=200, help="timed runs per query")
    p.add_argument("--warmup", type=int, default=10, help="untimed runs per query")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    p.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    p.add_argument(
        "--recreate", action="store_true", help="drop an existing PostgreSQL database first"
    )
    args = p.parse_args(argv)
    specs = args.database or ["sqlite", DEFAULT_PG_URL]
    args.database = [s.strip() for spec in specs for s in spec.split(",") if s.strip()]
    if args.tickets < 1 or args.events_per_ticket < 1 or args.agencies < 1 or args.runs < 2:
        p.error("--tickets, --events-per-ticket, --agencies must be >= 1 and --runs >= 2")
    return args


def run_one(spec: str, args: argparse.Namespace) -> DatabaseResult:
    target = prepare_target(spec, args.keep, args.recreate)
    engine: sa.Engine | None = None
    try:
        print(f"\n== {target.label}: {make_url(target.url).render_as_string()}", flush=True)
        t0 = time.perf_counter()
        upgrade(target.url)
        print(f"  schema via hotline.migrate.upgrade: {time.perf_counter() - t0:.1f} s")
        engine = make_engine(target.url)
        version = server_version(engine)
        ld = load(engine, target, args)
        print(
            f"  loaded {ld.tickets:,} tickets / {ld.rows:,} rows in {ld.seconds:,.1f} s "
            f"(generating {ld.generate_seconds:,.1f} s, inserting {ld.insert_seconds:,.1f} s): "
            f"{ld.tickets_per_s:,.0f} tickets/s, {ld.rows_per_s:,.0f} rows/s; "
            f"{'VACUUM ANALYZE' if target.dialect == 'postgresql' else 'ANALYZE'} "
            f"{ld.analyze_seconds:.1f} s; size {_mib(ld.size_bytes)}; "
            f"{ld.open_tickets:,} open, {ld.with_next_due:,} with next_due_at",
            flush=True,
        )
        queries = bench_queries(engine, args)
        for q in queries:
            print(f"\n  -- {q.description}\n{q.sql_text}\n  -- plan:")
            print("\n".join("     " + line for line in q.explain.splitlines()))
            print(
                f"  p50 {q.app.p50:.2f} ms, p95 {q.app.p95:.2f}, p99 {q.app.p99:.2f}, "
                f"max {q.app.max:.2f} (SQL only p50 {q.sql.p50:.2f}, p95 {q.sql.p95:.2f}); "
                f"{q.rows_mean:,.0f} rows; {q.gc_full_collections} full GCs during the runs",
                flush=True,
            )
        return DatabaseResult(target.label, version, ld, queries)
    finally:
        if engine is not None:
            engine.dispose()
        target.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"hotline ticket store benchmark: {args.tickets:,} tickets, ~{args.events_per_ticket} "
        f"events each, {args.agencies} agencies, seed {args.seed}; python "
        f"{platform.python_version()}, SQLAlchemy {sa.__version__}, psycopg {psycopg.__version__}, "
        f"sqlite3 library {sqlite3.sqlite_version}, {os.cpu_count()} CPUs",
        flush=True,
    )
    results = [run_one(spec, args) for spec in args.database]
    table = markdown(results)
    print("\n" + table)
    if args.json:
        payload = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "argv": sys.argv,
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "now": NOW.isoformat(),
            "results": [asdict(r) for r in results],
            "markdown": table,
        }
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        print(f"\nJSON written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
