"""Load drill (issue 7): the production setup driven by locust at 1×, 10× and 100× the peak.

Run: ``.venv/bin/python -m drills.load [--short]`` (PostgreSQL on 127.0.0.1, ``.[test]``
installed: locust is a test extra). Port 8793, database ``hotline_drill_load``.

The stack: gunicorn with ``gunicorn.conf.py`` (3 sync workers by default), PostgreSQL, the
scheduler process, all on loopback; locust (one process, headless) on the same machine. The
peak is Beijing 110's 3.5 calls/s. The mix (``drills/locustfile.py``), for an intake of r calls/s
and people sized for p calls/s:

- intake: r calls/s through ``POST /api/v1/calls``, half from the 110 system, half from 12345,
  spread evenly over seven lead agencies;
- agency staff: 3p steps/s; each step reads the inbox and, when a ticket waits, opens it and
  signs for it or replies to it (replies first). Two steps per call sign for and reply to every
  ticket as fast as calls arrive at the peak (agencies really have working days for this, so
  this is on the heavy side); the third is headroom: idle staff re-read their inbox;
- supervisors: the KPI report and the overdue list, each p/35 times a second (every 10 s at 1×).

The levels offer 1×, 10× and 100× the peak in calls with p = 1× (a surge does not bring more
people to the agencies' desks; the tickets wait in their inboxes). The long run then searches
where it saturates: the intake stepped up from 10×, and the whole mix scaled (p = r, a bigger
city).

After each level the store is audited (``hotline check``) and compared with what clients were
told: every accepted call has exactly one ticket, every sign-for and reply a client saw succeed
is an event, no ticket was signed for or replied to twice, no call is stored that no client
sent. PASS also needs 1× and 10× to keep their rate (≥ 90 % of what the mix offers) with no 5xx,
timeouts or refused connections and every endpoint's p95 under 1 s; 100× is expected to
saturate on 2 cores and only has to lose nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from pathlib import Path

import psutil

from drills.common import (
    BIN,
    ROOT,
    Stack,
    fresh_database,
    machine,
    post_json,
    prepare,
    running,
    today,
)
from drills.load_checks import check_level
from drills.load_figures import (
    PEAK,
    Level,
    Plan,
    add_server_times,
    print_level,
    print_search,
    read_stats,
    saturation,
)
from drills.load_mix import PASSWORD, TRANSCRIPTS

DB_NAME = "hotline_drill_load"
PORT = 8793
# (name, calls as a multiple of the peak, seconds). The staff and supervisors stay sized for
# 1× at every level: a surge of calls does not bring more people to the agencies' desks, the
# tickets wait in their inboxes (the long run also scales everyone, see WHOLE_MIX).
SHORT = [("1×", 1, 20), ("10×", 10, 20), ("100×", 100, 5)]
LONG = [("1×", 1, 120), ("10×", 10, 120), ("100×", 100, 30)]
# The long run's saturation searches, 60 s a step, each until a step saturates: the intake
# stepped up from 10× with the staff as above, then the whole mix scaled (a bigger city).
INTAKE_STEPS = [12, 14, 16, 18, 20, 25, 30, 40, 60, 100]
WHOLE_MIX = [2, 3, 4, 5, 6, 8, 10]
SEARCH_SECONDS = 60
# (title, multiples, whether the staff scale with the calls)
SEARCHES = [
    ("intake up, staff for 1×", INTAKE_STEPS, False),
    ("whole mix scaled", WHOLE_MIX, True),
]
CLIENT_TIMEOUT = 10  # seconds; the intake retries twice more with the same key
STOP_TIMEOUT = 40  # seconds a running task may take to finish once the run time is over


def run_level(stack: Stack, db_url: str, keys: dict[str, str], level: Level, logs: Path) -> None:
    prefix = f"load-{level.name.replace('×', 'x')}-{int(time.time())}"
    out = logs / f"{prefix}.json"
    config = logs / f"{prefix}-config.json"
    config.write_text(
        json.dumps(
            {
                "keys": keys,
                "prefix": prefix,
                "users": level.plan.users,
                "rates": level.plan.rates,
                "out": str(out),
                "timeout": CLIENT_TIMEOUT,
            }
        )
    )
    total = sum(level.plan.users.values())
    csv_prefix = logs / prefix
    log = logs / f"{prefix}-locust.log"
    command = [
        str(BIN / "locust"),
        *("-f", str(ROOT / "drills" / "locustfile.py"), "--headless", "--only-summary"),
        *("--host", stack.url, "--users", str(total), "--spawn-rate", str(total)),
        *("--run-time", f"{level.seconds}s", "--stop-timeout", str(STOP_TIMEOUT)),
        *("--csv", str(csv_prefix), "--logfile", str(log)),
    ]
    level.load_before = os.getloadavg()[0]
    since = datetime.now(UTC)
    cpu_before = cpu_seconds(stack)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with (logs / f"{prefix}-locust.out").open("wb") as output:
        subprocess.run(
            command,
            env={**os.environ, "LOAD_DRILL_CONFIG": str(config), "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=level.seconds + STOP_TIMEOUT + 120,
            check=False,  # locust exits 1 when any request failed; the figures say which
        )
    level.drain_seconds = wait_until_idle(stack.url)
    level.wall_seconds = (datetime.now(UTC) - since).total_seconds()
    cpu_after = cpu_seconds(stack)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    level.cpu = {part: cpu_after[part] - cpu_before.get(part, 0.0) for part in cpu_after}
    level.cpu["locust"] = (children.ru_utime + children.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    record = json.loads(out.read_text())
    level.generator_busy = "CPU usage" in log.read_text(errors="replace")
    errors: dict[str, dict[str, int]] = {}
    for name, kind, n in record["errors"]:
        errors.setdefault(name, {})[kind] = n
    level.retries, level.replays = record["retries"], record["replays"]
    level.unknown = len(record["unknown_keys"])
    level.rows = read_stats(Path(f"{csv_prefix}_stats.csv"), level, errors)
    add_server_times(stack.logs / "gunicorn.log", level.rows, since, datetime.now(UTC))
    level.consistency = check_level(db_url, prefix, record)


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far by the web workers, the scheduler and PostgreSQL's backends for
    the drill's database: where a saturated machine's time went."""

    def used(process: psutil.Process) -> float:
        try:
            times = process.cpu_times()
        except psutil.Error:
            return 0.0
        return times.user + times.system

    assert stack.gunicorn is not None
    web = psutil.Process(stack.gunicorn.pid)
    database = [
        p
        for p in psutil.process_iter(["cmdline"])
        if any(DB_NAME in part for part in p.info["cmdline"] or [])
    ]
    return {
        "web": sum(used(p) for p in [web, *web.children(recursive=True)]),
        "scheduler": sum(used(psutil.Process(p.pid)) for p in stack.schedulers),
        "postgres": sum(used(p) for p in database),
    }


def wait_until_idle(url: str, limit: float = 180) -> float:
    """Seconds until the server answers promptly again. It keeps working through requests
    whose clients gave up, so the audit waits for that backlog: a call stored later would
    escape it, and the next level would pay for this one."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        asked = time.monotonic()
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=30):
                pass
        except OSError:
            continue
        if time.monotonic() - asked < 0.1:
            break
    return time.monotonic() - started


def warm(url: str, key: str, workers: int) -> None:
    """Make every worker load the classifier (about two seconds) and render each page once
    (imports and templates: a first KPI report takes over a second) before measuring; the
    requests go in parallel so that every worker gets some."""

    def call(i: int) -> None:
        post_json(
            f"{url}/api/v1/calls",
            {"transcript": TRANSCRIPTS["water"]},
            {"X-API-Key": key, "Idempotency-Key": f"warm-{i}"},
            timeout=60,
        )

    rounds = range(workers * 3)
    with ThreadPoolExecutor(workers * 2) as pool:
        list(pool.map(call, rounds))
        supervisor, staff = _logged_in(url, "supervisor"), _logged_in(url, "water")
        ticket = re.search(r'data-ticket="(\d+)"', _read(staff, f"{url}/?state=dispatched"))
        pages = [(supervisor, "/reports/kpi"), (supervisor, "/reports/overdue"), (staff, "/")]
        if ticket:
            pages.append((staff, f"/tickets/{ticket[1]}"))
        list(pool.map(lambda page: _read(page[0], url + page[1]), pages * len(rounds)))


def _logged_in(url: str, username: str) -> urllib.request.OpenerDirector:
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', _read(browser, f"{url}/login"))
    assert token is not None, "no csrf token on the log-in page"
    form = {"username": username, "password": PASSWORD, "csrf_token": token[1]}
    browser.open(f"{url}/login", data=urllib.parse.urlencode(form).encode(), timeout=30).close()
    return browser


def _read(browser: urllib.request.OpenerDirector, url: str) -> str:
    with browser.open(url, timeout=60) as response:
        return response.read().decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI: about two minutes")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    started = time.monotonic()
    print(f"load drill {today()} on {machine()}")
    print(f"load average before start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    db_url = fresh_database(DB_NAME)
    keys = prepare(db_url)
    levels: list[Level] = []
    searches: dict[str, list[Level]] = {}
    with running(db_url, port=PORT, workers=args.workers) as stack:
        stack.start_scheduler()
        warm(stack.url, keys["110"], args.workers)
        logs = stack.logs / "locust"
        logs.mkdir()
        print(f"stack up in {time.monotonic() - started:.0f} s; logs in {stack.logs}", flush=True)
        for name, multiple, seconds in SHORT if args.short else LONG:
            level = Level(name, multiple, seconds, Plan.of(PEAK * multiple, PEAK))
            run_level(stack, db_url, keys, level, logs)
            levels.append(level)
            print(f"{name} done at {time.monotonic() - started:.0f} s", flush=True)
        for title, steps, people in [] if args.short else SEARCHES:
            found = searches.setdefault(title, [])
            for multiple in steps:
                plan = Plan.of(PEAK * multiple, PEAK * (multiple if people else 1))
                level = Level(f"{multiple}×", multiple, SEARCH_SECONDS, plan)
                run_level(stack, db_url, keys, level, logs)
                found.append(level)
                print(f"{title} {multiple}× done at {time.monotonic() - started:.0f} s", flush=True)
                if level.saturated():
                    break
        interval = stack.scheduler_interval
    ok = all([print_level(level) for level in levels])
    for title, found in searches.items():
        ok = print_search(title, found) and ok
    print(
        f"\nconfiguration: gunicorn {args.workers} sync workers, PostgreSQL, the scheduler "
        f"every {interval} s, locust in one process on the same machine; "
        f"{time.monotonic() - started:.0f} s in all"
    )
    print(f"LOAD DRILL: {'PASS' if ok else 'FAIL'}")
    if args.json:
        figures = {
            "date": today(),
            "machine": machine(),
            "workers": args.workers,
            "levels": [asdict(lv) for lv in levels],
            "searches": {t: [asdict(lv) for lv in found] for t, found in searches.items()},
            "saturation": {t: saturation(found) for t, found in searches.items()},
            "verdict": "PASS" if ok else "FAIL",
        }
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
