"""Deadline policies: configuration, clock arithmetic, pauses, warning levels."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import CHINA_TZ
from hotline.domain.errors import ValidationError
from hotline.domain.policies import (
    ClockRule,
    Counting,
    Unit,
    WarningLevel,
    load_policies,
    parse_policies,
    resume_due,
    warning_level,
    working_days_left,
)

CN = WorkingCalendar.chinese()
ROOT = Path(__file__).resolve().parents[2]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


def test_the_shipped_policies_load() -> None:
    policies = load_policies(ROOT / "deadline_policies.yaml")
    assert policies.default == "general" and policies.warning_share == 0.8
    assert policies.get(None).clocks["reply"] == ClockRule(5, Unit.WORKING_DAYS)
    assert policies.get("emergency").clocks["reply"] == ClockRule(2, Unit.HOURS)
    with pytest.raises(ValidationError, match="未知的时限规则"):
        policies.get("nonsense")


@pytest.mark.parametrize(
    ("rule", "start", "expected"),
    [
        # 次日起算: Tuesday + 5 working days = next Tuesday.
        (ClockRule(5, Unit.WORKING_DAYS), local(2026, 3, 10, 9), local(2026, 3, 17, 23, 59, 59)),
        # 含本数: Tuesday is day 1, so day 5 is Monday the 16th.
        (
            ClockRule(5, Unit.WORKING_DAYS, Counting.INCLUSIVE),
            local(2026, 3, 10, 9),
            local(2026, 3, 16, 23, 59, 59),
        ),
        # 含本数 starting on a holiday: the first working day after it is day 1.
        (
            ClockRule(1, Unit.WORKING_DAYS, Counting.INCLUSIVE),
            local(2026, 10, 3, 9),
            local(2026, 10, 8, 23, 59, 59),
        ),
        (ClockRule(3, Unit.DAYS), local(2026, 10, 3, 9), local(2026, 10, 6, 23, 59, 59)),
        (
            ClockRule(3, Unit.DAYS, Counting.INCLUSIVE),
            local(2026, 10, 3, 9),
            local(2026, 10, 5, 23, 59, 59),
        ),
        (ClockRule(24, Unit.HOURS), local(2026, 10, 3, 9), local(2026, 10, 4, 9)),
        (ClockRule(30, Unit.MINUTES), local(2026, 10, 3, 9), local(2026, 10, 3, 9, 30)),
    ],
)
def test_clock_due(rule: ClockRule, start: datetime, expected: datetime) -> None:
    assert rule.due(start, CN) == expected


def _config(**clock: object) -> dict:
    return {"default": "p", "policies": {"p": {"clocks": {"reply": clock}}}}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_config(amount=-3, unit="days"), "正整数"),
        (_config(amount=0, unit="days"), "正整数"),
        (_config(amount=2.5, unit="days"), "正整数"),
        (_config(amount=3, unit="weeks"), "无效的取值 'weeks'"),
        (_config(amount=3, unit="hours", counting="inclusive"), "不区分"),
        (_config(amount=3, unit="days", starts_at="lunch"), "starts_at"),
        (_config(amount=3, unit="days", colour="red"), "未知字段 colour"),
        ({"default": "p", "policies": {"p": {"clocks": {"lunch": {}}}}}, "未知的时钟 'lunch'"),
        (
            {
                "default": "p",
                "policies": {"p": {"clocks": {"sign_for": {"amount": 1, "unit": "days"}}}},
            },
            "reply",
        ),
        (
            {
                "default": "q",
                "policies": {"p": {"clocks": {"reply": {"amount": 1, "unit": "days"}}}},
            },
            "默认规则",
        ),
        ({"policies": []}, "policies"),
        ({**_config(amount=1, unit="days"), "warning_share": 1.5}, "warning_share"),
    ],
)
def test_bad_policies_are_refused_with_the_place(raw, message) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_policies(raw)


def test_pause_across_national_day_hands_back_the_working_days_left() -> None:
    rule = ClockRule(5, Unit.WORKING_DAYS)
    due = local(2026, 9, 30, 23, 59, 59)
    # Paused on Tuesday 29th: Wednesday 30th had not started, so one working day is left,
    # counted from the day after resumption on Thursday 8 October.
    moved = resume_due(due, local(2026, 9, 29, 12), local(2026, 10, 8, 9), rule, CN)
    assert moved == local(2026, 10, 9, 23, 59, 59)


def test_pause_when_already_due_that_day_stays_due() -> None:
    rule = ClockRule(5, Unit.WORKING_DAYS)
    due = local(2026, 3, 13, 23, 59, 59)
    resumed = local(2026, 3, 17, 10)
    assert resume_due(due, local(2026, 3, 13, 9), resumed, rule, CN) == resumed


def test_pause_on_a_natural_clock_moves_by_its_length() -> None:
    rule = ClockRule(24, Unit.HOURS)
    due = local(2026, 3, 11, 9)
    paused, resumed = local(2026, 3, 10, 12), local(2026, 3, 10, 15)
    assert resume_due(due, paused, resumed, rule, CN) == local(2026, 3, 11, 12)
    with pytest.raises(ValidationError, match="早于"):
        resume_due(due, paused, local(2026, 3, 10, 11), rule, CN)


moments = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 1), timezones=st.just(CHINA_TZ)
)
pauses = st.timedeltas(timedelta(0), timedelta(days=20))


@given(start=moments, days=st.integers(1, 15), pause=pauses)
def test_working_day_pauses_are_invariant_and_land_on_working_days(start, days, pause) -> None:
    rule = ClockRule(days, Unit.WORKING_DAYS)
    due = rule.due(start, CN)
    assume(start < due)
    # Pausing and resuming at once changes nothing.
    assert resume_due(due, start, start, rule, CN) == due
    moved = resume_due(due, start, start + pause, rule, CN)
    assert moved >= due
    assert CN.is_working_day(moved.astimezone(CHINA_TZ).date())
    # The working days that had not started are handed back exactly.
    assert working_days_left(start + pause, moved, CN) == working_days_left(start, due, CN)
    # Resuming later never gives an earlier deadline.
    assert resume_due(due, start, start + pause + timedelta(days=1), rule, CN) >= moved


def test_warning_levels() -> None:
    start, due = local(2026, 3, 10, 0), local(2026, 3, 20, 0)
    assert warning_level(local(2026, 3, 11), start, due, 0.8) is WarningLevel.GREEN
    assert warning_level(local(2026, 3, 18, 1), start, due, 0.8) is WarningLevel.YELLOW
    assert warning_level(local(2026, 3, 20, 0, 0, 1), start, due, 0.8) is WarningLevel.RED
    assert warning_level(local(2026, 3, 30), start, None, 0.8) is WarningLevel.GREEN


def test_alert_schedule_and_next_alert() -> None:
    from hotline.domain.policies import AlertKind, alert_schedule, next_alert

    start, due = local(2026, 9, 29, 10), local(2026, 9, 30, 23, 59, 59)
    schedule = dict(alert_schedule(start, due, CN, 0.8))
    assert schedule[AlertKind.OVERDUE] == local(2026, 10, 1, 0, 0, 0)
    # D+1 is the first working day after National Day; 通报 on the sixth working day after the
    # due day: 8, 9, 10 (the make-up Saturday), 12, 13, 14 October.
    assert schedule[AlertKind.CHASE] == local(2026, 10, 8, 9)
    assert schedule[AlertKind.CRITICISM] == local(2026, 10, 14, 9)
    assert start < schedule[AlertKind.WARNING] < due
    ordered = alert_schedule(start, due, CN, 0.8)
    assert next_alert(ordered, set()) == schedule[AlertKind.WARNING]
    assert next_alert(ordered, {AlertKind.WARNING, AlertKind.OVERDUE}) == local(2026, 10, 8, 9)
    assert next_alert(ordered, set(AlertKind)) is None
