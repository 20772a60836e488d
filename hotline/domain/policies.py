"""Deadline policies: named sets of clocks, loaded from configuration and validated.

A clock says how long (amount + unit), how days are counted (含本数 inclusive, or 次日起算
from the next day) and when it starts (at dispatch, or at sign-for). Deadlines are computed
from stored facts — start time, policy, approved extension days, pauses. A pause hands back
the working days that had not started, so a resumed deadline is still the end of a working day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import CHINA_TZ, ensure_aware
from hotline.domain.errors import ValidationError

DAY = timedelta(days=1)
END_OF_WORKING_DAY = time(23, 59, 59)


class Unit(StrEnum):
    WORKING_DAYS = "working_days"
    DAYS = "days"
    HOURS = "hours"
    MINUTES = "minutes"


class Counting(StrEnum):
    INCLUSIVE = "inclusive"  # 含本数: the start day is day 1
    NEXT_DAY = "next_day"  # 次日起算: day 1 is the day after the start


class Start(StrEnum):
    DISPATCH = "dispatch"
    SIGN_FOR = "sign_for"


CLOCK_NAMES = ("sign_for", "reply", "close")


class WarningLevel(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def label(self) -> str:
        return {"green": "正常", "yellow": "预警", "red": "超期"}[self.value]


@dataclass(frozen=True)
class ClockRule:
    amount: int
    unit: Unit
    counting: Counting = Counting.NEXT_DAY
    starts_at: Start = Start.DISPATCH

    def due(self, start: datetime, calendar: WorkingCalendar) -> datetime:
        """When this clock runs out if it starts at ``start`` and is never paused."""
        start = ensure_aware(start)
        if self.unit is Unit.HOURS:
            return start + timedelta(hours=self.amount)
        if self.unit is Unit.MINUTES:
            return start + timedelta(minutes=self.amount)
        day = start.astimezone(CHINA_TZ).date()
        if self.unit is Unit.DAYS:
            offset = self.amount - 1 if self.counting is Counting.INCLUSIVE else self.amount
            return _end_of(day + timedelta(days=offset))
        steps = self.amount
        if self.counting is Counting.INCLUSIVE and calendar.is_working_day(day):
            steps -= 1  # today is day 1 of the count
        return _end_of(calendar.add_working_days(day, steps))


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    clocks: Mapping[str, ClockRule]


@dataclass(frozen=True)
class PolicySet:
    policies: Mapping[str, Policy]
    default: str
    warning_share: float

    def get(self, name: str | None) -> Policy:
        key = name or self.default
        try:
            return self.policies[key]
        except KeyError:
            raise ValidationError("deadline_policy", f"未知的时限规则 {key!r}") from None


def _end_of(day: date) -> datetime:
    return datetime.combine(day, END_OF_WORKING_DAY, tzinfo=CHINA_TZ)


def working_days_left(paused_at: datetime, due: datetime, calendar: WorkingCalendar) -> int:
    """Working days after the day of ``paused_at`` up to and including the due date."""
    day = paused_at.astimezone(CHINA_TZ).date()
    last = due.astimezone(CHINA_TZ).date()
    count = 0
    while day < last:
        day += DAY
        count += calendar.is_working_day(day)
    return count


def resume_due(
    due: datetime,
    paused_at: datetime,
    resumed_at: datetime,
    rule: ClockRule,
    calendar: WorkingCalendar,
) -> datetime:
    """The deadline after a pause: what was left when paused is left again on resume.

    Natural-time clocks move by the pause's length. Working-day clocks hand back the whole
    working days that had not started when the ticket was paused, counted again from the day
    after resumption (次日起算) and ending at the same time of day, so the new deadline is the
    end of a working day.
    """
    if resumed_at < paused_at:
        raise ValidationError("resumed_at", "恢复时间早于挂起时间")
    if rule.unit is not Unit.WORKING_DAYS:
        return due + (resumed_at - paused_at)
    left = working_days_left(paused_at, due, calendar)
    if left == 0:
        return max(due, resumed_at)  # already due on the day it was paused: due on resumption
    resumed_day = resumed_at.astimezone(CHINA_TZ).date()
    new_day = calendar.add_working_days(resumed_day, left)
    local_due = due.astimezone(CHINA_TZ)
    return datetime.combine(new_day, local_due.timetz()).astimezone(due.tzinfo)


def warning_level(
    now: datetime, start: datetime, due: datetime | None, warning_share: float
) -> WarningLevel:
    """Green, yellow once ``warning_share`` of the clock is used, red when it has run out."""
    if due is None:
        return WarningLevel.GREEN
    if now > due:
        return WarningLevel.RED
    span = (due - start).total_seconds()
    used = (now - start).total_seconds()
    if span <= 0 or used >= warning_share * span:
        return WarningLevel.YELLOW
    return WarningLevel.GREEN


# --- loading and validating the configuration -------------------------------------------


def load_policies(path: Path) -> PolicySet:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError(str(path), f"无法读取：{exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ValidationError(str(path), f"YAML 格式错误：{exc}") from exc
    return parse_policies(raw, source=str(path))


def parse_policies(raw: Any, source: str = "deadline_policies") -> PolicySet:
    if not isinstance(raw, dict) or not isinstance(raw.get("policies"), dict):
        raise ValidationError(source, "应包含 policies 映射")
    share = raw.get("warning_share", 0.8)
    if not isinstance(share, int | float) or not 0 < share < 1:
        raise ValidationError(f"{source}.warning_share", "应为 0 到 1 之间的小数")
    policies: dict[str, Policy] = {}
    for name, body in raw["policies"].items():
        where = f"{source}.policies.{name}"
        if not isinstance(body, dict) or not isinstance(body.get("clocks"), dict):
            raise ValidationError(where, "应包含 clocks 映射")
        clocks = {}
        for clock_name, spec in body["clocks"].items():
            if clock_name not in CLOCK_NAMES:
                raise ValidationError(
                    f"{where}.clocks", f"未知的时钟 {clock_name!r}，可选：{'、'.join(CLOCK_NAMES)}"
                )
            clocks[clock_name] = _parse_clock(spec, f"{where}.clocks.{clock_name}")
        if "reply" not in clocks:
            raise ValidationError(f"{where}.clocks", "至少需要 reply（答复）时钟")
        policies[str(name)] = Policy(str(name), str(body.get("description", "")), clocks)
    default = raw.get("default")
    if default not in policies:
        raise ValidationError(f"{source}.default", f"默认规则 {default!r} 未定义")
    return PolicySet(policies, default, float(share))


def _parse_clock(spec: Any, where: str) -> ClockRule:
    if not isinstance(spec, dict):
        raise ValidationError(where, "应为映射（amount、unit …）")
    unknown = set(spec) - {"amount", "unit", "counting", "starts_at"}
    if unknown:
        raise ValidationError(where, f"未知字段 {', '.join(sorted(unknown))}")
    amount = spec.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError(f"{where}.amount", f"应为正整数，而不是 {amount!r}")
    unit = _choice(Unit, spec.get("unit"), f"{where}.unit")
    counting = _choice(Counting, spec.get("counting", "next_day"), f"{where}.counting")
    if unit in (Unit.HOURS, Unit.MINUTES) and "counting" in spec:
        raise ValidationError(f"{where}.counting", "按小时或分钟计的时钟不区分含本数/次日起算")
    starts_at = _choice(Start, spec.get("starts_at", "dispatch"), f"{where}.starts_at")
    return ClockRule(amount, unit, counting, starts_at)


def _choice(enum: type[StrEnum], value: Any, where: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = "、".join(m.value for m in enum)
        raise ValidationError(where, f"无效的取值 {value!r}，可选：{allowed}") from None


# --- the alert schedule of one running clock --------------------------------------------


class AlertKind(StrEnum):
    WARNING = "warning"  # 预警: most of the clock is used
    OVERDUE = "overdue"  # 超期
    CHASE = "chase"  # 催办: the first working day after the deadline (D+1)
    CRITICISM = "criticism"  # 通报: more than 5 working days overdue after the chase


CRITICISM_AFTER_WORKING_DAYS = 5
# Chases and criticism are filed in office hours, not at the midnight a ticket turns overdue.
OFFICE_OPENS = timedelta(hours=9)


def alert_schedule(
    start: datetime, due: datetime, calendar: WorkingCalendar, warning_share: float
) -> list[tuple[AlertKind, datetime]]:
    """When each alert of a clock running from ``start`` to ``due`` falls due, in order."""
    due_day = due.astimezone(CHINA_TZ).date()
    chase_day = calendar.add_working_days(due_day, 1)
    criticism_day = calendar.add_working_days(due_day, CRITICISM_AFTER_WORKING_DAYS + 1)
    warning = start + (due - start) * warning_share if due > start else due
    return [
        (AlertKind.WARNING, warning),
        (AlertKind.OVERDUE, due + timedelta(seconds=1)),
        (AlertKind.CHASE, _start_of(chase_day) + OFFICE_OPENS),
        (AlertKind.CRITICISM, _start_of(criticism_day) + OFFICE_OPENS),
    ]


def next_alert(
    schedule: list[tuple[AlertKind, datetime]], recorded: set[AlertKind] | frozenset[AlertKind]
) -> datetime | None:
    """The first alert not yet recorded: what the sweep should next look at."""
    for kind, at in schedule:
        if kind not in recorded:
            return at
    return None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=CHINA_TZ)
