"""The Chinese working calendar: official holidays and 调休 make-up workdays, plus city overrides.

Official data comes from the maintained `chinesecalendar` package. Past its last year (it
ends with 2026 today) a date is a working day when it is Monday–Friday, unless the city's
overrides say otherwise; ``warnings`` tells administrators the calendar needs updating. Every
date is a local (Asia/Shanghai) calendar date.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, lru_cache

from hotline.domain.errors import ValidationError

# Warn this long before the official data runs out, so there is time to upgrade.
WARN_AHEAD = timedelta(days=60)
# Dates inside this window are counted by lookup; outside it, day by day (same answers).
WINDOW = ((2000, 1, 1), (2040, 12, 31))


@dataclass(frozen=True)
class OfficialData:
    holidays: frozenset[date]
    workdays: frozenset[date]
    first_year: int
    last_year: int

    def covers(self, day: date) -> bool:
        return self.first_year <= day.year <= self.last_year


@lru_cache(maxsize=1)
def official_data() -> OfficialData:
    from chinese_calendar import constants

    holidays = frozenset(constants.holidays)
    workdays = frozenset(constants.workdays)
    years = [d.year for d in holidays | workdays]
    return OfficialData(holidays, workdays, min(years), max(years))


@lru_cache(maxsize=1)
def default_calendar() -> WorkingCalendar:
    """The official calendar without city overrides, built once (its lookup table is not free)."""
    return WorkingCalendar.chinese()


@dataclass(frozen=True)
class WorkingCalendar:
    """Which local dates are working days.

    ``WorkingCalendar()`` alone knows weekends only (pure tests); ``WorkingCalendar.chinese()``
    adds the official holidays and make-up days. City overrides win over both.
    """

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    official: OfficialData | None = None

    def __post_init__(self) -> None:
        both = sorted(self.holidays & self.workdays)
        if both:
            days = "、".join(d.isoformat() for d in both)
            raise ValidationError("calendar", f"{days} 同时被配置为节假日和调休工作日")

    @classmethod
    def with_overrides(
        cls, holidays: Iterable[date] = (), workdays: Iterable[date] = ()
    ) -> WorkingCalendar:
        return cls(frozenset(holidays), frozenset(workdays))

    @classmethod
    def chinese(
        cls, holidays: Iterable[date] = (), workdays: Iterable[date] = ()
    ) -> WorkingCalendar:
        return cls(frozenset(holidays), frozenset(workdays), official_data())

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        if self.official is not None and self.official.covers(day):
            if day in self.official.workdays:
                return True
            if day in self.official.holidays:
                return False
        return day.weekday() < 5

    @cached_property
    def _working_ordinals(self) -> list[int]:
        """Every working day in a window around today, as ordinals: counting becomes a lookup."""
        first, last = date(*WINDOW[0]).toordinal(), date(*WINDOW[1]).toordinal()
        return [n for n in range(first, last + 1) if self.is_working_day(date.fromordinal(n))]

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start``, not counting ``start`` (次日起算)."""
        if days < 0:
            raise ValueError("days must be >= 0")
        if days == 0:
            return start
        ordinals = self._working_ordinals
        index = bisect_right(ordinals, start.toordinal()) + days - 1
        if ordinals and ordinals[0] <= start.toordinal() and index < len(ordinals):
            return date.fromordinal(ordinals[index])
        return self._add_working_days_slowly(start, days)

    def _add_working_days_slowly(self, start: date, days: int) -> date:
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def official_until(self) -> date | None:
        return date(self.official.last_year, 12, 31) if self.official is not None else None

    def warnings(self, today: date) -> list[str]:
        """What an administrator must fix before deadlines go wrong; empty when all is well."""
        until = self.official_until()
        if until is None:
            return []
        if today > until:
            return [
                f"法定节假日数据只到 {until.year} 年；{until.year + 1} 年起暂按周末计算工作日，"
                "调休安排未计入。请升级 chinesecalendar，或在 CITY_EXTRA_HOLIDAYS / "
                "CITY_EXTRA_WORKDAYS 中配置当年的放假和调休日期。"
            ]
        if today + WARN_AHEAD > until:
            return [
                f"法定节假日数据将于 {until.isoformat()} 到期：到期后暂按周末计算工作日。"
                "请尽快升级 chinesecalendar，或配置 CITY_EXTRA_HOLIDAYS / CITY_EXTRA_WORKDAYS。"
            ]
        return []
