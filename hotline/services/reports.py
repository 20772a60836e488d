"""KPI figures: the daily freeze into kpi_snapshots, and periods read back from it.

A day is a Beijing calendar day. Its counts come from that day's events, attributed to the
agency each event names; ``overdue_open`` is the open tickets past their running deadline
when the day is frozen (normally minutes after midnight).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.domain.clock import CHINA_TZ, to_local
from hotline.domain.kpis import EventFact, KpiCounts, count_events
from hotline.models import KpiSnapshot, Ticket, TicketEvent
from hotline.models.engine import insert_ignoring_duplicates

CITY = "city"
CENTRE = "centre"  # the hotline centre's own steps (受理, 直办): no agency on the event
MAX_CATCH_UP_DAYS = 400


def scope_of(agency_id: int | None) -> str:
    return CENTRE if agency_id is None else f"agency:{agency_id}"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=CHINA_TZ)
    return start, start + timedelta(days=1)


def day_counts(db: Session, day: date) -> dict[int | None, KpiCounts]:
    """The counts of one day, per agency (None: the centre), straight from the event log."""
    start, end = day_bounds(day)
    rows = db.execute(
        sa.select(
            TicketEvent.action,
            TicketEvent.occurred_at,
            TicketEvent.agency_id,
            TicketEvent.payload,
            Ticket.direction,
        )
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.occurred_at >= start, TicketEvent.occurred_at < end)
    )
    counts = count_events(
        EventFact(action, occurred_at, agency_id, payload or {}, direction)
        for action, occurred_at, agency_id, payload, direction in rows
    )
    overdue = db.execute(
        sa.select(Ticket.lead_agency_id, sa.func.count())
        .where(Ticket.is_open, Ticket.next_due_at < end)
        .group_by(Ticket.lead_agency_id)
    )
    for agency_id, number in overdue:
        counts.setdefault(agency_id, KpiCounts()).overdue_open = number
    return counts


def freeze_day(db: Session, day: date, now: datetime) -> int:
    """Write the day's snapshot rows once; a second run (or a second scheduler) adds nothing.
    Returns the number of rows written."""
    counts = day_counts(db, day)
    city = KpiCounts()
    for part in counts.values():
        city.add(part)
    rows = [
        {
            "day": day,
            "scope": scope_of(agency_id),
            "agency_id": agency_id,
            "counts": part.as_dict(),
            "frozen_at": now,
        }
        for agency_id, part in counts.items()
    ]
    rows.append(
        {"day": day, "scope": CITY, "agency_id": None, "counts": city.as_dict(), "frozen_at": now}
    )
    statement = insert_ignoring_duplicates(db, KpiSnapshot).returning(KpiSnapshot.id)
    return len(db.execute(statement, rows).all())


def days_to_freeze(db: Session, now: datetime) -> Iterator[date]:
    """Every day before today not frozen yet: after the last frozen day, or from the first
    event when nothing is frozen; a scheduler that was down catches up without gaps."""
    yesterday = to_local(now).date() - timedelta(days=1)
    last = db.scalar(sa.select(sa.func.max(KpiSnapshot.day)).where(KpiSnapshot.scope == CITY))
    if last is not None:
        first = last + timedelta(days=1)
    else:
        earliest = db.scalar(sa.select(sa.func.min(TicketEvent.occurred_at)))
        if earliest is None:
            return
        first = to_local(earliest).date()
    first = max(first, yesterday - timedelta(days=MAX_CATCH_UP_DAYS))
    day = first
    while day <= yesterday:
        yield day
        day += timedelta(days=1)


def period_counts(db: Session, first: date, last: date) -> dict[str, KpiCounts]:
    """Frozen counts summed over [first, last] per scope."""
    totals: dict[str, KpiCounts] = {}
    rows = db.execute(
        sa.select(KpiSnapshot.scope, KpiSnapshot.counts).where(
            KpiSnapshot.day >= first, KpiSnapshot.day <= last
        )
    )
    for scope, counts in rows:
        totals.setdefault(scope, KpiCounts()).add(KpiCounts.from_dict(counts))
    return totals
