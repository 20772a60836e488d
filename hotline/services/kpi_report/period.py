"""The period a report covers: local Beijing days, checked before any query runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hotline.domain.errors import ValidationError
from hotline.services.reports import day_bounds

MAX_PERIOD_DAYS = 400


@dataclass(frozen=True)
class Period:
    """[first, last], both local days, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return day_bounds(self.first)[0]

    @property
    def end(self) -> datetime:
        return day_bounds(self.last)[1]

    def days(self) -> Iterator[date]:
        day = self.first
        while day <= self.last:
            yield day
            day += timedelta(days=1)

    def label(self) -> str:
        return f"{self.first.isoformat()} 至 {self.last.isoformat()}"


def parse_day(raw: object, field: str) -> date:
    text = raw.strip() if isinstance(raw, str) else ""
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            field, f"日期“{text}”无效，应为 YYYY-MM-DD，例如 2026-03-01"
        ) from None


def parse_period(raw_from: str | None, raw_to: str | None, today: date) -> Period:
    """The period the query asks for; by default the current month up to today."""
    first = parse_day(raw_from, "from") if raw_from else today.replace(day=1)
    last = parse_day(raw_to, "to") if raw_to else today
    if not raw_to and raw_from and first > today:
        last = first
    if first > last:
        raise ValidationError("to", "结束日期不能早于开始日期")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationError("to", f"统计区间不能超过 {MAX_PERIOD_DAYS} 天")
    return Period(first, last)
