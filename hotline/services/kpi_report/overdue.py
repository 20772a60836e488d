"""The overdue list: open tickets past their running deadline, by agency and working days late.

Days late are counted in working days on the city's calendar (domain.md §4, the unit every
deadline and 通报 rule uses): the working days after the day the deadline fell on, up to and
including today. A ticket due this morning is 0 working days late ("1 天内"); one due last
Friday is 1 working day late on Monday.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import to_local
from hotline.domain.errors import ValidationError
from hotline.models import Agency, Ticket

UNASSIGNED = "未指定承办单位"


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    low: int  # working days late, at least
    high: int | None  # and fewer than


BUCKETS = (
    Bucket("lt1", "1 天内", 0, 1),
    Bucket("1-3", "1–3 天", 1, 3),
    Bucket("3-5", "3–5 天", 3, 5),
    Bucket("5+", "5 天以上", 5, None),
)
DAYS_RULE = (
    "超期天数按工作日计算（法定节假日与调休按城市工作日历）：时限所在日之后至今天（含）的工作日数；"
    "当天到期、当天超期的记为 0 个工作日，即“1 天内”。"
)


def bucket_of(days_late: int) -> Bucket:
    for bucket in BUCKETS:
        if days_late >= bucket.low and (bucket.high is None or days_late < bucket.high):
            return bucket
    return BUCKETS[0]


def parse_bucket(raw: str | None) -> Bucket | None:
    if not raw:
        return None
    for bucket in BUCKETS:
        if raw == bucket.key:
            return bucket
    allowed = "、".join(f"{b.key}（{b.label}）" for b in BUCKETS)
    raise ValidationError("bucket", f"未知的超期分组“{raw}”，可选：{allowed}")


class WorkingDaysLate:
    """Working days between a deadline's day and today; one count per distinct day."""

    def __init__(self, calendar: WorkingCalendar, now: datetime) -> None:
        self.calendar, self.today = calendar, to_local(now).date()
        self._cache: dict[date, int] = {}

    def __call__(self, due_at: datetime) -> int:
        due_day = to_local(due_at).date()
        if due_day not in self._cache:
            day, count = due_day + timedelta(days=1), 0
            while day <= self.today:
                count += self.calendar.is_working_day(day)
                day += timedelta(days=1)
            self._cache[due_day] = count
        return self._cache[due_day]


@dataclass(frozen=True)
class OverdueTicket:
    ticket_id: int
    agency_id: int | None
    due_at: datetime
    days_late: int
    bucket: Bucket


@dataclass
class OverdueGroup:
    agency_id: int | None
    name: str
    by_bucket: dict[str, int] = field(default_factory=lambda: {b.key: 0 for b in BUCKETS})

    @property
    def total(self) -> int:
        return sum(self.by_bucket.values())


def overdue_tickets(
    db: Session,
    calendar: WorkingCalendar,
    now: datetime,
    *,
    agency_id: int | None = None,
    bucket: Bucket | None = None,
) -> list[OverdueTicket]:
    """Open tickets whose running deadline (``next_due_at``) is before now, most late first."""
    query = sa.select(Ticket.id, Ticket.lead_agency_id, Ticket.next_due_at).where(
        Ticket.is_open, Ticket.next_due_at < now
    )
    if agency_id is not None:
        query = query.where(Ticket.lead_agency_id == agency_id)
    late = WorkingDaysLate(calendar, now)
    found = []
    for ticket_id, lead, due_at in db.execute(query.order_by(Ticket.next_due_at, Ticket.id)):
        days = late(due_at)
        b = bucket_of(days)
        if bucket is None or b == bucket:
            found.append(OverdueTicket(ticket_id, lead, due_at, days, b))
    return found


def overdue_groups(db: Session, tickets: Iterable[OverdueTicket]) -> list[OverdueGroup]:
    """Per agency (most overdue first), with a count per bucket."""
    groups: dict[int | None, OverdueGroup] = {}
    for t in tickets:
        group = groups.setdefault(t.agency_id, OverdueGroup(t.agency_id, UNASSIGNED))
        group.by_bucket[t.bucket.key] += 1
    ids = [i for i in groups if i is not None]
    if ids:
        for agency_id, name in db.execute(
            sa.select(Agency.id, Agency.name).where(Agency.id.in_(ids))
        ):
            groups[agency_id].name = name
    return sorted(groups.values(), key=lambda g: (-g.total, g.name))


def bucket_totals(groups: Iterable[OverdueGroup]) -> dict[str, int]:
    totals = {b.key: 0 for b in BUCKETS}
    for g in groups:
        for key, n in g.by_bucket.items():
            totals[key] += n
    return totals
