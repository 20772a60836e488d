"""KPI report benchmark: one month, all agencies, over 1,000,000 tickets on PostgreSQL.

A standalone script, not a test. Target (issue 6): "The KPI report for one month and all
agencies over 1,000,000 tickets <= 2 s" on PostgreSQL on this machine.

Run from the project root::

    .venv/bin/python benchmarks/kpi_report.py                       # 1M tickets, a year frozen
    .venv/bin/python benchmarks/kpi_report.py --tickets 20000 --freeze-days 30   # smoke run

The database (default ``hotline_bench_kpi``) is created, loaded and dropped by
``ticket_store.py``'s helpers (created through the ``postgres`` maintenance database, an existing
one refused unless ``--recreate``, schema by ``hotline.migrate.upgrade``, rows by COPY, dropped
at the end unless ``--keep``). Its generator makes lifecycle-consistent histories over two
years; this script adds to each event what the application itself records and the KPIs read:
the agency the step concerns, and the payload facts of 签收 / 答复 (deadline, dispatch time,
resolved, contacted) and 回访 (rating). With ``--events-per-ticket 7`` (the default here) a
finished ticket goes the whole way (派单, 签收, 答复, 审核, 回访, 办结) instead of 直办.

Measured, ``--runs`` times each after one untimed warm-up, as the web page calls them:

* cold: the month's KPI table with no snapshots at all (every day counted from the event log);
* then ``--freeze-days`` days before "today" are frozen with ``freeze_day`` (timed);
* snapshot path (what the product uses): the same month, frozen days read from kpi_snapshots
  and today counted live;
* the whole page's data on the snapshot path: the table, the overdue list, the weekly trend
  and the category mix.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ticket_store
from ticket_store import NOW

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import to_local
from hotline.domain.lifecycle import Action
from hotline.domain.vocabulary import Satisfaction
from hotline.migrate import upgrade
from hotline.models import KpiSnapshot, TicketEvent
from hotline.models.engine import make_engine, normalise_url
from hotline.services.kpi_report import Period, kpi_table, overdue_groups, overdue_tickets
from hotline.services.kpi_report.charts import category_mix, weekly_trend
from hotline.services.reports import freeze_day

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/hotline_bench_kpi"
RATINGS = list(Satisfaction)
RATING_WEIGHTS = [35, 40, 15, 7, 3]
_original_batch = ticket_store.Generator.batch
# ticket_store puts every open ticket's whole history in the last 3 days (what its inbox and
# sweep timings need): ~57,000 tickets' events a day, 40 times a real day at 1M tickets over
# two years. --open-spread-days moves each open ticket's history back by up to that many days
# (deadlines stay around "now", so the overdue figures do not change).
OPEN_SPREAD = timedelta(0)
_TIME_COLUMNS = (
    "created_at",
    "updated_at",
    "dispatched_at",
    "signed_at",
    "replied_at",
    "closed_at",
    "suspended_at",
)


def batch_with_kpi_facts(self: ticket_store.Generator, first_id: int, end_id: int) -> Any:
    """ticket_store's batch, plus what the services record on each event (agency, payload)."""
    b = _original_batch(self, first_id, end_id)
    rng: random.Random = self.rng
    if OPEN_SPREAD:
        shifts = {
            t["id"]: timedelta(seconds=rng.uniform(0, OPEN_SPREAD.total_seconds()))
            for t in b.tickets
            if t["is_open"]
        }
        for t in b.tickets:
            for column in _TIME_COLUMNS:
                if t["id"] in shifts and t[column] is not None:
                    t[column] -= shifts[t["id"]]
        for c in b.calls:
            if c["id"] in shifts:  # call id == ticket id in ticket_store
                c["received_at"] -= shifts[c["id"]]
                c["created_at"] -= shifts[c["id"]]
        for e in b.events:
            if e["ticket_id"] in shifts:
                e["occurred_at"] -= shifts[e["ticket_id"]]
    leads = {t["id"]: t["lead_agency_id"] for t in b.tickets}
    dispatched: dict[int, Any] = {}
    for e in b.events:  # in ticket, then seq order
        tid, action, at = e["ticket_id"], e["action"], e["occurred_at"]
        if action in (Action.DISPATCH, Action.REOPEN):
            dispatched[tid] = at
        start = dispatched.get(tid)
        e["agency_id"] = leads[tid] if start is not None else None
        if start is None:
            continue
        if action is Action.SIGN_FOR:
            e["payload"] = {
                "due_at": (start + timedelta(days=1)).isoformat(),
                "dispatched_at": start.isoformat(),
            }
        elif action is Action.REPLY:
            e["payload"] = {
                "due_at": (start + timedelta(days=rng.choice((1, 5, 7)))).isoformat(),
                "dispatched_at": start.isoformat(),
                "resolved": rng.random() < 0.8,
                "contacted_caller": rng.random() < 0.95,
                "reply_text": "已处理",
            }
        elif action is Action.FOLLOW_UP:
            rating = rng.choices(RATINGS, RATING_WEIGHTS)[0]
            e["payload"] = {"rating": rating.value, "score": rating.score, "note": None}
        elif action is Action.APPROVE_EXTENSION:
            e["payload"] = {"working_days": 5}
    return b


def timed(label: str, fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up: caches, plans
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    median = statistics.median(samples)
    print(
        f"  {label}: median {median:.3f} s, min {min(samples):.3f}, max {max(samples):.3f} "
        f"over {runs} runs",
        flush=True,
    )
    return median


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database", default=DEFAULT_PG_URL)
    p.add_argument("--tickets", type=int, default=1_000_000)
    p.add_argument("--events-per-ticket", type=int, default=7)
    p.add_argument("--agencies", type=int, default=40)
    p.add_argument("--seed", type=int, default=20261122)
    p.add_argument("--batch", type=int, default=20_000)
    p.add_argument("--freeze-days", type=int, default=365)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument(
        "--open-spread-days",
        type=float,
        default=0,
        help="move open tickets' histories back by up to this many days (see OPEN_SPREAD)",
    )
    p.add_argument("--keep", action="store_true")
    p.add_argument("--recreate", action="store_true")
    p.add_argument("--reuse", action="store_true", help="time an already loaded database")
    args = p.parse_args(argv)
    args.pg_load = "copy"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ticket_store.Generator.batch = batch_with_kpi_facts  # type: ignore[method-assign]
    global OPEN_SPREAD
    OPEN_SPREAD = timedelta(days=args.open_spread_days)
    print(
        f"hotline KPI report benchmark: {args.tickets:,} tickets, ~{args.events_per_ticket} "
        f"events each, {args.agencies} agencies; python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; open tickets spread over {args.open_spread_days:g} extra days",
        flush=True,
    )
    if args.reuse:
        # A database this script loaded before (--keep, or a run cut short): no load, and
        # its snapshots are dropped first so the cold path really is cold.
        target = ticket_store.Target("PostgreSQL", normalise_url(args.database), "postgresql")
    else:
        target = ticket_store.prepare_target(args.database, args.keep, args.recreate)
    if target.dialect != "postgresql":
        raise SystemExit("the target is PostgreSQL")
    engine = make_engine(target.url)
    try:
        print(f"== {make_url(target.url).render_as_string()}", flush=True)
        if args.reuse:
            with engine.begin() as conn:
                conn.execute(sa.delete(KpiSnapshot))
        else:
            upgrade(target.url)
            ld = ticket_store.load(engine, target, args)
            print(
                f"  loaded {ld.tickets:,} tickets, {ld.events:,} events in {ld.seconds:,.0f} s; "
                f"{ld.open_tickets:,} open; size {ld.size_bytes / 2**20:,.0f} MiB",
                flush=True,
            )
        today = to_local(NOW).date()
        month = Period(today.replace(day=1), today)
        calendar = WorkingCalendar.chinese()
        with Session(engine) as db:
            in_month = db.scalar(
                sa.select(sa.func.count()).where(
                    TicketEvent.occurred_at >= month.start, TicketEvent.occurred_at < month.end
                )
            )
        print(f"  report: {month.label()} (now {NOW.isoformat()}), {in_month:,} events in it")

        def table() -> object:
            with Session(engine) as db:
                return kpi_table(db, month, NOW)

        def page() -> object:
            with Session(engine) as db:
                t = kpi_table(db, month, NOW)
                overdue_groups(db, overdue_tickets(db, calendar, NOW))
                weekly_trend(t.totals)
                return category_mix(db, month)

        cold = timed("cold (no snapshots, all days live)", table, args.runs)

        t0 = time.perf_counter()
        with Session(engine) as db:
            for n in range(args.freeze_days, 0, -1):
                freeze_day(db, today - timedelta(days=n), NOW)
                db.commit()
            snapshots = db.scalar(sa.select(sa.func.count()).select_from(KpiSnapshot))
        freeze_s = time.perf_counter() - t0
        print(
            f"  froze {args.freeze_days} days ({snapshots:,} snapshot rows) in {freeze_s:,.1f} s "
            f"({freeze_s / args.freeze_days:.2f} s a day)",
            flush=True,
        )
        ticket_store.analyze(engine)
        with Session(engine) as db:
            result = kpi_table(db, month, NOW)
            frozen, live = len(result.totals.frozen_days), len(result.totals.live_days)
            dispatched = result.city.counts.dispatched
        print(f"  snapshot path: {frozen} frozen days + {live} live; {dispatched:,} dispatches")
        warm = timed("snapshot path: KPI table", table, args.runs)
        whole = timed("snapshot path: whole page (table, overdue list, charts)", page, args.runs)
        print(
            f"\n| path | median |\n|---|---|\n| cold, no snapshots | {cold:.2f} s |\n"
            f"| snapshots + today live: KPI table | {warm:.2f} s |\n"
            f"| snapshots + today live: whole page | {whole:.2f} s |\n"
            f"\ndate {date.today().isoformat()}; target <= 2 s: "
            f"{'met' if warm <= 2 else 'NOT met'} (snapshot path, the product's)"
        )
    finally:
        engine.dispose()
        target.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
