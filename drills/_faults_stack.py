"""Fault drills against the production stack on PostgreSQL: gunicorn workers killed, schedulers
killed and doubled, PostgreSQL restarted — each under the steady API load of ``Load``."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from drills._faults_load import (
    Load,
    get,
    logged_in,
    prepared_copy,
    utc_now,
    wait_for,
)
from drills.common import free_port, running, verdict

DB_DOWN_TEXT = "数据库暂时不可用"


@dataclass
class Result:
    name: str
    ok: bool = True
    lines: list[str] = field(default_factory=list)
    skipped: str | None = None

    def say(self, line: str) -> None:
        self.lines.append(line)
        print(f"  {line}", flush=True)

    def require(self, condition: bool, what: str) -> None:
        """A check beyond the audit; printed either way."""
        self.say(f"{'ok  ' if condition else 'FAIL'} {what}")
        self.ok = self.ok and condition


def finish(result: Result, load: Load, db_url: str) -> Result:
    f = load.figures
    result.say(f"load: {f.describe()}")
    result.require(not f.failures, f"no answer other than 2xx or 503 ({f.failures[:3]})")
    result.require(f.unresolved == 0, "every call a client started was finally accepted")
    result.require(f.missing_retry_after == 0, "every 503 carried Retry-After")
    audit = verdict(db_url, load.ticketed, load.queued)
    for line in audit.lines:
        result.say(f"audit: {line}")
    result.ok = result.ok and audit.ok
    return result


def engine(db_url: str) -> sa.Engine:
    from hotline.models.engine import make_engine

    return make_engine(db_url)


# --- 1. kill -9 gunicorn workers ----------------------------------------------------------------


def worker_kills(short: bool) -> Result:
    result = Result("kill -9 gunicorn workers under load")
    duration, every = (10, 2.0) if short else (60, 2.0)
    db_url, keys = prepared_copy("hotline_drill_faults_workers")
    with running(db_url, port=free_port(), workers=3) as stack:
        load = Load(stack.url, keys, threads=4, prefix="kill").start()
        time.sleep(3)  # every worker has loaded the model once
        kills, began = 0, time.monotonic()
        while time.monotonic() - began < duration:
            pids = stack.worker_pids()
            if pids:
                os.kill(random.choice(pids), signal.SIGKILL)
                kills += 1
            time.sleep(every)
        time.sleep(3)
        load.stop()
        back = wait_for(lambda: len(stack.worker_pids()) == 3, 30)
    result.say(f"killed {kills} workers with SIGKILL, one every {every:.0f} s for {duration} s")
    result.require(back is not None, "gunicorn had all 3 workers again afterwards")
    f = load.figures
    result.say(
        f"requests cut off by a kill: {sum(f.errors.values())}; their retries found the call "
        f"already made {f.replays} times (so the kill came after the commit) and made it "
        "otherwise"
    )
    return finish(result, load, db_url)


# --- 2. schedulers: two at once, one killed mid-sweep, restarted --------------------------------


def seed_due_tickets(db_url: str, count: int) -> list[int]:
    """Tickets dispatched 1–12 days ago and never signed for: the sweep owes them 预警, 超期,
    催办 and 通报, all due at once."""
    from hotline import create_app
    from hotline.extensions import db
    from hotline.models import User
    from hotline.services import tickets as svc
    from hotline.services.context import Actor, Context
    from hotline.services.intake import CallInput, open_ticket, register_call

    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "drill"})
    rng = random.Random(7)
    leads = ["housing", "urban-mgmt", "market", "eco-env", "transport", "health"]
    ids: list[int] = []
    with app.app_context():
        taker = db.session.scalar(sa.select(User).where(User.username == "calltaker"))
        assert taker is not None
        now = utc_now()
        for n in range(count):
            at = now - timedelta(minutes=rng.randint(60 * 24, 60 * 24 * 12))
            ctx = Context(
                db=db.session,
                actor=Actor.of(taker),
                now=at,
                calendar=app.extensions["hotline.calendar"],
                policies=app.extensions["hotline.policies"],
            )
            call = register_call(
                ctx, CallInput(hotline="12345", transcript=f"演练来电 {n}：路灯不亮")
            )
            ticket = open_ticket(ctx, call, category_level1="城乡建设")
            svc.dispatch(ctx, ticket.id, lead_agency=rng.choice(leads))
            ids.append(ticket.id)
            if n % 200 == 199:
                db.session.commit()
        db.session.commit()
    return ids


def _counts(db_url: str, ids: list[int]) -> dict[str, int]:
    e = engine(db_url)
    try:
        with e.connect() as conn:
            due = conn.scalar(sa.text("SELECT count(*) FROM tickets WHERE next_alert_at <= now()"))
            alerts = conn.scalar(sa.text("SELECT count(*) FROM ticket_alerts"))
            return {"due": int(due or 0), "alerts": int(alerts or 0)}
    finally:
        e.dispose()


def schedulers(short: bool) -> Result:
    result = Result("two schedulers at once, one killed -9 mid-sweep and restarted")
    count = 300 if short else 3000
    db_url, keys = prepared_copy("hotline_drill_faults_scheduler")
    began = time.monotonic()
    ids = seed_due_tickets(db_url, count)
    result.say(f"seeded {count} overdue tickets in {time.monotonic() - began:.0f} s")
    with running(db_url, port=free_port(), workers=2, scheduler_interval=5) as stack:
        load = Load(stack.url, keys, threads=2, prefix="sched").start()
        first, _second = stack.start_scheduler(), stack.start_scheduler()
        started = wait_for(
            lambda: (
                _counts(db_url, ids)["alerts"] > 0
                or first.poll() is not None
                or _second.poll() is not None
            ),
            60,
            step=0.05,
        )
        if started is None or first.poll() is not None or _second.poll() is not None:
            load.stop()
            result.require(False, f"both schedulers started sweeping (see {stack.logs})")
            return finish(result, load, db_url)
        time.sleep(0.5)
        before = _counts(db_url, ids)
        first.send_signal(signal.SIGKILL)
        first.wait()
        result.say(
            f"killed scheduler {first.pid} with SIGKILL mid-sweep: {before['alerts']} alerts "
            f"recorded, {before['due']} tickets still due"
        )
        stack.start_scheduler()
        drained = wait_for(
            lambda: (
                _counts(db_url, ids)["due"] == 0
                or all(p.poll() is not None for p in stack.schedulers)
            ),
            180,
            step=0.5,
        )
        drained = drained if _counts(db_url, ids)["due"] == 0 else None
        time.sleep(2 * stack.scheduler_interval + 1)  # a few more ticks find nothing to redo
        load.stop()
        alive = sum(p.poll() is None for p in stack.schedulers)
    result.require(drained is not None, f"every due ticket swept ({drained or 0:.1f} s after kill)")
    result.require(alive == 2, "the surviving and the restarted scheduler still running")
    _check_alerts_once(result, db_url, ids)
    return finish(result, load, db_url)


def _check_alerts_once(result: Result, db_url: str, ids: list[int]) -> None:
    e = engine(db_url)
    try:
        with e.connect() as conn:
            by_kind = dict(
                conn.execute(sa.text("SELECT kind, count(*) FROM ticket_alerts GROUP BY kind"))
                .tuples()
                .all()
            )
            duplicated = conn.scalar(
                sa.text(
                    "SELECT count(*) FROM (SELECT 1 FROM ticket_alerts "
                    "GROUP BY ticket_id, kind, due_at HAVING count(*) > 1) d"
                )
            )
            # A 催办/通报 event is filed with its alert, in the same transaction: never more
            # events of a kind on a ticket than alerts of that kind.
            extra_actions = conn.scalar(
                sa.text(
                    """
                    SELECT count(*) FROM (
                      SELECT e.ticket_id, e.action, count(*) AS events FROM ticket_events e
                      WHERE e.action IN ('chase', 'criticize') AND e.ticket_id = ANY(:ids)
                      GROUP BY e.ticket_id, e.action) x
                    WHERE x.events > (SELECT count(*) FROM ticket_alerts a
                      WHERE a.ticket_id = x.ticket_id
                        AND a.kind = CASE x.action WHEN 'chase' THEN 'chase'
                                                   ELSE 'criticism' END)
                    """
                ),
                {"ids": ids},
            )
            actions = dict(
                conn.execute(
                    sa.text(
                        "SELECT action, count(*) FROM ticket_events "
                        "WHERE action IN ('chase', 'criticize') AND ticket_id = ANY(:ids) "
                        "GROUP BY action"
                    ),
                    {"ids": ids},
                )
                .tuples()
                .all()
            )
            notes = conn.scalar(
                sa.text(
                    "SELECT count(*) FROM (SELECT ticket_id, kind, message FROM notifications "
                    "GROUP BY ticket_id, kind, message, agency_id HAVING count(*) > 1) d"
                )
            )
    finally:
        e.dispose()
    result.say(f"alerts recorded by kind: {by_kind}; system 催办/通报 events: {actions}")
    result.require(duplicated == 0, "every alert recorded exactly once per ticket, kind and due")
    result.require(extra_actions == 0, "no 催办/通报 event filed twice for one alert")
    result.require(notes == 0, "no notification sent twice")
    result.require(bool(by_kind.get("chase")) and bool(actions), "the sweep did file 催办 events")


# --- 3. restart PostgreSQL under load -----------------------------------------------------------


def pg_version() -> str:
    return sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".")])[-1]


def pg_ctl(action: str) -> None:
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", action]
    if action == "stop":
        command += ["-m", "fast"]
    subprocess.run(command, check=True, capture_output=True)


def pg_ready() -> bool:
    check = ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]
    return subprocess.run(check).returncode == 0


def postgres_restart(short: bool) -> Result:
    result = Result("PostgreSQL stopped and started under load")
    outage = 4 if short else 30
    db_url, keys = prepared_copy("hotline_drill_faults_pg")
    with running(db_url, port=free_port(), workers=3) as stack:
        scheduler = stack.start_scheduler()
        # Started means past its start-up check of the schema: a scheduler that cannot reach
        # the database at start exits (its supervisor restarts it), which is another drill.
        log = stack.logs / "scheduler-0.log"
        wait_for(lambda: "时限调度已启动" in log.read_text(errors="replace"), 60)
        person = logged_in(stack.url)
        result.require(get(f"{stack.url}/", person)[0] == 200, "a call taker is logged in")
        load = Load(stack.url, keys, threads=3, prefix="pg").start()
        time.sleep(3)
        pg_ctl("stop")
        down_at = time.monotonic()
        time.sleep(1)
        ready = get(f"{stack.url}/readyz")
        page = get(f"{stack.url}/", person)
        result.say(f"PostgreSQL stopped for {outage} s (pg_ctlcluster stop -m fast, then start)")
        result.require(ready[0] == 503, f"/readyz answered {ready[0]} during the outage")
        result.require(
            page[0] == 503 and page[2].get("Retry-After") == "5" and DB_DOWN_TEXT in page[1],
            f"a person's page answered {page[0]} with Retry-After and 「{DB_DOWN_TEXT}」",
        )
        time.sleep(max(0.0, outage - (time.monotonic() - down_at)))
        pg_ctl("start")
        ready_after = wait_for(lambda: get(f"{stack.url}/readyz")[0] == 200, 60)
        time.sleep(3)
        load.stop()
        page_after = get(f"{stack.url}/", person)[0]
        scheduler_alive = scheduler.poll() is None
    f = load.figures
    result.say(
        f"503 answers during the outage: {f.statuses.get('503', 0)}; app ready again "
        f"{ready_after if ready_after is not None else -1:.1f} s after PostgreSQL started; "
        f"calls failing from {f.first_fault or 0:.1f} s to {f.last_fault or 0:.1f} s of the load"
    )
    result.require(f.statuses.get("503", 0) > 0, "clients were told 503 while it was down")
    result.say(f"the 503 answers said: {dict(f.messages)}")
    result.require(ready_after is not None, "the app reconnected by itself (pool pre-ping)")
    result.require(page_after == 200, "the person's session works again without logging in")
    result.require(scheduler_alive, "the scheduler survived the outage")
    return finish(result, load, db_url)
