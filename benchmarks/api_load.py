"""POST calls through the transfer API under gunicorn on PostgreSQL, with wrk on loopback.

Run: .venv/bin/python benchmarks/api_load.py [--workers 3] [--connections 16] [--seconds 30]
Needs: PostgreSQL on 127.0.0.1 (trust auth), wrk (apt-get install -y wrk).
Target (issue 4): >= 300 calls/s sustained, p99 <= 100 ms, zero errors, and afterwards every
accepted call has exactly one ticket (counted in the database, not taken from the responses).

What it does: makes a fresh database, migrates it, seeds the demo city (whose agencies the
shipped routing rules name), registers an API client, starts gunicorn on wsgi:app, warms every
worker, then wrk posts calls with a fresh Idempotency-Key each (a rotating set of transcripts
that the shipped rules route to a ticket). It then counts calls, transfers and tickets.
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
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

ADMIN_URL = os.environ.get(
    "HOTLINE_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DB_NAME = "hotline_bench_api"
PORT = 8765

# Calls with a clear owner under the shipped rules: each must become exactly one ticket.
TRANSCRIPTS = [
    "我们小区停水一天了，什么时候恢复",
    "公司拖欠工资三个月了，老板不接电话",
    "小区路灯坏了好几天，晚上很黑",
    "健身房老板跑路了，预付卡退不了",
    "化工厂晚上偷排污水，很臭",
    "有人拿刀在街上追人",
    "厨房着火了，火很大",
    "我想问问护照怎么办",
]

LUA = r"""
-- One Idempotency-Key per request: thread id and a counter make it unique.
local counter = 0
local texts = {TEXTS}
statuses = {}
local thread_id = 0
local threads = {}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end

function init(args)
  key = args[1]
  statuses = {}
end

function request()
  counter = counter + 1
  local text = texts[(counter % #texts) + 1]
  local body = '{"transcript":"' .. text .. '","external_id":"B-' .. tid .. '-' .. counter .. '"}'
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["X-API-Key"] = key
  headers["Idempotency-Key"] = "bench-" .. tid .. "-" .. counter
  return wrk.format("POST", "/api/v1/calls", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for code, n in pairs(s) do total[code] = (total[code] or 0) + n end
  end
  io.write("STATUSES ")
  for code, n in pairs(total) do io.write(code .. "=" .. n .. " ") end
  io.write("\n")
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("PCT %g %.3f\n", p, latency:percentile(p) / 1000.0))
  end
  io.write(string.format("REQ %d %d\n", summary.requests, summary.duration))
  io.write(string.format("ERR %d %d %d %d %d\n", summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install -y wrk")

    db_url = _fresh_database()
    key = _prepare(db_url)
    env = {**os.environ, "DATABASE_URL": db_url, "HOTLINE_SECRET_KEY": "bench"}
    gunicorn = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        _wait_until_up()
        _warm(key, args.workers)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            texts = ", ".join(json.dumps(t, ensure_ascii=False) for t in TRANSCRIPTS)
            script.write(LUA.replace("{TEXTS}", "{" + texts + "}"))
        started = datetime.now(UTC)
        result = subprocess.run(
            [
                "wrk",
                "-t",
                "1",
                "-c",
                str(args.connections),
                "-d",
                f"{args.seconds}s",
                "--timeout",
                "5s",
                "-s",
                script.name,
                f"http://127.0.0.1:{PORT}",
                "--",
                key,
            ],
            capture_output=True,
            text=True,
        )
        os.unlink(script.name)
        if result.returncode != 0:
            sys.exit(f"wrk failed: {result.stdout}\n{result.stderr}")
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)

    report = _parse(result.stdout)
    report.update(_count(db_url))
    report.update(
        {
            "date": started.isoformat(timespec="seconds"),
            "machine": (
                f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
            ),
            "workers": args.workers,
            "threads": args.threads,
            "connections": args.connections,
            "seconds": args.seconds,
        }
    )
    ok = (
        report["calls_per_second"] >= 300
        and report["p99_ms"] <= 100
        and report["errors"] == 0
        and report["accepted"] == report["calls_with_one_ticket"] == report["tickets"]
    )
    report["verdict"] = "PASS" if ok else "FAIL"
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2))


def _fresh_database() -> str:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{DB_NAME}"')
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{DB_NAME}"


def _prepare(db_url: str) -> str:
    from hotline import create_app, migrate
    from hotline.demo.seed import seed_demo_city
    from hotline.extensions import db
    from hotline.services.context import Actor, Context
    from hotline.services.exchange import create_client

    migrate.upgrade(db_url)
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "bench"})
    with app.app_context():
        clock = app.extensions["hotline.clock"]
        seed_demo_city(
            db.session, clock=clock, calendar=app.extensions["hotline.calendar"], tickets=0
        )
        ctx = Context(db=db.session, actor=Actor.system("bench"), now=clock.now())
        _, key = create_client(ctx, name="bench-110", hotline="110")
        db.session.commit()
    return key


def _wait_until_up() -> None:
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit("gunicorn did not start")


def _warm(key: str, workers: int) -> None:
    """Load the classifier in every worker before measuring (about two seconds each)."""
    for i in range(workers * 6):
        request = urllib.request.Request(
            f"http://127.0.0.1:{PORT}/api/v1/calls",
            data=json.dumps({"transcript": TRANSCRIPTS[0]}).encode(),
            headers={
                "X-API-Key": key,
                "Idempotency-Key": f"warm-{i}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=30):
            pass


def _parse(out: str) -> dict[str, object]:
    statuses = dict(
        (int(code), int(n))
        for code, n in re.findall(r"(\d{3})=(\d+)", out.split("STATUSES", 1)[1].splitlines()[0])
    )
    pct = {float(p): float(ms) for p, ms in re.findall(r"PCT ([\d.]+) ([\d.]+)", out)}
    requests, duration_us = (int(x) for x in re.search(r"REQ (\d+) (\d+)", out).groups())
    errors = sum(int(x) for x in re.search(r"ERR (\d+) (\d+) (\d+) (\d+) (\d+)", out).groups())
    return {
        "requests": requests,
        "calls_per_second": round(requests / (duration_us / 1e6), 1),
        "p50_ms": pct[50.0],
        "p90_ms": pct[90.0],
        "p99_ms": pct[99.0],
        "p99_9_ms": pct[99.9],
        "statuses": statuses,
        "accepted_by_wrk": statuses.get(201, 0),
        "errors": errors + sum(n for code, n in statuses.items() if code >= 400),
    }


def _count(db_url: str) -> dict[str, int]:
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        one = lambda sql: conn.exec_driver_sql(sql).scalar_one()  # noqa: E731
        report = {
            "accepted": one(
                "SELECT count(*) FROM calls WHERE idempotency_key LIKE 'api:%%:bench-%%'"
            ),
            "calls_with_one_ticket": one(
                "SELECT count(*) FROM calls c WHERE c.idempotency_key LIKE 'api:%%:bench-%%' AND "
                "(SELECT count(*) FROM tickets t WHERE t.call_id = c.id) = 1"
            ),
            "tickets": one(
                "SELECT count(*) FROM tickets t JOIN calls c ON c.id = t.call_id "
                "WHERE c.idempotency_key LIKE 'api:%%:bench-%%'"
            ),
            "events_per_ticket_min": one(
                "SELECT coalesce(min(n), 0) FROM (SELECT count(*) n FROM ticket_events e "
                "JOIN tickets t ON t.id = e.ticket_id GROUP BY t.id) x"
            ),
        }
    engine.dispose()
    return report


if __name__ == "__main__":
    main()
