"""The load drill's figures: the mix for a rate, when a level kept up, when a step saturated,
and reading locust's CSV and the access log (no server, no locust)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drills.load_checks import Consistency
from drills.load_figures import (
    ENDPOINTS,
    INBOX,
    INTAKE,
    KPI,
    REPLY,
    SIGN_FOR,
    Level,
    Plan,
    Row,
    add_server_times,
    read_stats,
    saturation,
)

KINDS = {"intake": INTAKE, "staff": INBOX}


@pytest.mark.parametrize(("calls", "people"), [(3.5, 3.5), (35, 3.5), (350, 3.5), (35, 35)])
def test_the_users_offer_the_planned_rates(calls: float, people: float) -> None:
    plan = Plan.of(calls, people)
    for kind, endpoint in KINDS.items():
        offered = plan.users[kind] * plan.rates[kind]
        assert offered == pytest.approx(plan.target(endpoint))  # one inbox read per step
    assert plan.users["staff"] % 7 == 0  # every agency gets as many staff
    assert max(plan.rates.values()) <= 1.0
    # Agencies sign for no more tickets than arrive, and no more than their staff can.
    assert plan.target(SIGN_FOR) == min(calls, people * 1.5)


def _level(rows: list[Row], accepted: int, ok: bool = True, seconds: int = 20) -> Level:
    level = Level("1×", 1, seconds, Plan.of(3.5, 3.5))
    level.rows = rows
    done = {"sign_for": 70, "reply": 70}
    for row in rows:
        if row.endpoint in (SIGN_FOR, REPLY):
            done[row.endpoint.rsplit("/", 1)[1]] = row.requests
    level.consistency = Consistency(ok, accepted, done)
    return level


def _rows(p95: float = 50, errors: dict[str, int] | None = None, factor: float = 1.0) -> list[Row]:
    plan = Plan.of(3.5, 3.5)
    rows = []
    for endpoint in ENDPOINTS:
        n = round(plan.target(endpoint) * 20 * factor)
        rows.append(Row(endpoint, n, n / 20, plan.target(endpoint), 20, p95, p95, {}))
    if errors:
        rows[0].errors = errors
    return rows


def test_a_level_at_its_rate_keeps_up() -> None:
    assert _level(_rows(), accepted=70).problems() == []


@pytest.mark.parametrize(
    ("rows", "accepted", "needle"),
    [
        (_rows(), 50, "accepted"),
        (_rows(errors={"500": 1}), 70, "5xx"),
        (_rows(errors={"timeout": 2}), 70, "timeouts"),
        (_rows(p95=1200), 70, "p95"),
        (_rows(factor=0.25), 70, SIGN_FOR),
    ],
)
def test_a_level_that_fell_short_says_why(rows: list[Row], accepted: int, needle: str) -> None:
    problems = _level(rows, accepted).problems()
    assert any(needle in p for p in problems), problems


def test_reports_may_take_longer_than_the_per_call_work() -> None:
    rows = _rows()
    kpi = next(r for r in rows if r.endpoint == KPI)
    kpi.p95 = 2500
    assert _level(rows, accepted=70).problems() == []
    kpi.p95 = 3100
    assert _level(rows, accepted=70).problems() != []


def test_refusals_that_are_not_server_trouble_do_not_fail_a_level() -> None:
    assert _level(_rows(errors={"422": 1}), accepted=70).problems() == []


def test_saturation_names_the_last_step_that_held_and_the_first_that_broke() -> None:
    held = _level(_rows(), accepted=70)
    broke = _level(_rows(p95=1500), accepted=70)
    broke.plan = Plan.of(14, 14)
    broke.multiple = 4
    assert not held.saturated() and broke.saturated()
    assert saturation([held, broke]) == "held up to 3.5 calls/s (1×); saturated at 14 calls/s (4×)"


def test_read_stats_takes_locusts_percentiles_per_endpoint(tmp_path: Path) -> None:
    stats = tmp_path / "x_stats.csv"
    header = (
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
        "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
        "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
    )
    stats.write_text(
        f"{header}\n"
        f"POST,{INTAKE},70,0,21,25,9,300,400,3.5,0,21,24,26,28,35,48,90,120,300,300,300\n"
        f"POST,{REPLY},0,0,0,0,0,0,0,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\n"
        ",Aggregated,70,0,21,25,9,300,400,3.5,0,21,24,26,28,35,48,90,120,300,300,300\n"
    )
    level = Level("1×", 1, 20, Plan.of(3.5, 3.5))
    rows = read_stats(stats, level, {INTAKE: {"503": 2}})
    assert [r.endpoint for r in rows] == [INTAKE, REPLY]
    intake = rows[0]
    assert (intake.requests, intake.per_second, intake.p50, intake.p95, intake.p99) == (
        70,
        3.5,
        21,
        48,
        120,
    )
    assert intake.errors == {"503": 2} and rows[1].p99 == 0


def test_server_times_come_from_the_access_lines_of_the_level(tmp_path: Path) -> None:
    t0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def line(endpoint: str, path: str, ms: float, at: datetime) -> str:
        access = {"logger": "hotline.access", "timestamp": at.isoformat()}
        access |= {"endpoint": endpoint, "path": path, "duration_ms": ms}
        return json.dumps(access)

    log = tmp_path / "gunicorn.log"
    log.write_text(
        "\n".join(
            [
                "[2026-11-22 09:00:00 +0000] [1] [INFO] Booting worker",
                line("workbench.act", "/tickets/5/actions/sign_for", 12, t0),
                line("workbench.act", "/tickets/5/actions/reply", 30, t0),
                line("workbench.act", "/tickets/6/actions/sign_for", 14, t0),
                line("workbench.act", "/tickets/7/actions/sign_for", 13, t0),
                line("workbench.act", "/tickets/8/actions/sign_for", 999, t0 - timedelta(hours=1)),
            ]
        )
    )
    rows = [Row(SIGN_FOR, 3, 0, 0, 0, 0, 0, {}), Row(REPLY, 1, 0, 0, 0, 0, 0, {})]
    add_server_times(log, rows, t0 - timedelta(seconds=1), t0 + timedelta(seconds=1))
    assert [r.server_p50 for r in rows] == [13, 30]


@pytest.mark.parametrize(
    ("rows", "ok", "passes"),
    [
        (_rows(), True, True),
        (_rows(p95=1700), True, True),  # slow is reported, not a failure: nothing was lost
        (_rows(errors={"500": 1}), True, False),  # refused up to 10×: a failure
        (_rows(), False, False),  # the store disagrees with the clients: a failure
    ],
)
def test_the_verdict_is_about_what_was_lost(rows: list[Row], ok: bool, passes: bool) -> None:
    from drills.load_figures import print_level

    assert print_level(_level(rows, accepted=70, ok=ok)) is passes
