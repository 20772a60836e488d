"""KPI figures: the daily freeze into kpi_snapshots, and periods read back from it.

A day is a Beijing calendar day. Its counts come from that day's events, attributed to the
agency each event names; ``overdue_open`` is the open tickets past their running deadline
when the day is frozen (normally minutes after midnight).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from hotline.domain.clock import CHINA_TZ, to_local
from hotline.domain.kpis import EventFact, KpiCounts, count_events, is_non_police_110
from hotline.domain.lifecycle import Action
from hotline.domain.vocabulary import Hotline
from hotline.models import Call, KpiSnapshot, Ticket, TicketEvent, Transfer
from hotline.models.engine import insert_ignoring_duplicates

# The payload facts event_increments reads (domain/kpis.py), and their JSON types.
_PAYLOAD_FACTS: dict[str, type] = {
    "due_at": str,
    "dispatched_at": str,
    "resolved": bool,
    "contacted_caller": bool,
    "rating": str,
}
CITY = "city"
CENTRE = "centre"  # the hotline centre's own steps (受理, 直办): no agency on the event
MAX_CATCH_UP_DAYS = 400


def scope_of(agency_id: int | None) -> str:
    return CENTRE if agency_id is None else f"agency:{agency_id}"


def agency_of(scope: str) -> int | None:
    """The agency id of an ``agency:<id>`` scope; None for the city and the centre."""
    prefix, _, number = scope.partition(":")
    return int(number) if prefix == "agency" and number.isdigit() else None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=CHINA_TZ)
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class LoggedEvent:
    """One event of the log as KPIs read it, with the ids a drill-down lists."""

    event_id: int
    ticket_id: int
    fact: EventFact


def logged_events(
    db: Session,
    start: datetime,
    end: datetime,
    *,
    scope: str = CITY,
    actions: Collection[Action] | None = None,
) -> Iterator[LoggedEvent]:
    """The events in [start, end) as EventFacts, each with the stored facts KPIs need added:
    a close carries its last reply's time and deadline, a 110 intake whether it was non-police.
    The freeze and every drill-down read the log through here, so they cannot disagree."""
    window = [TicketEvent.occurred_at >= start, TicketEvent.occurred_at < end]
    if scope == CENTRE:
        window.append(TicketEvent.agency_id.is_(None))
    elif scope != CITY:
        window.append(TicketEvent.agency_id == agency_of(scope))
    if actions is not None:
        window.append(TicketEvent.action.in_(list(actions)))
    wanted = set(actions) if actions is not None else None
    closes = _close_facts(db, window) if wanted is None or Action.CLOSE in wanted else {}
    intakes = (
        _non_police_intakes(db, window) if wanted is None or Action.CREATE in wanted else set()
    )
    facts = [TicketEvent.payload[key] for key in _PAYLOAD_FACTS]
    rows = db.execute(
        sa.select(
            TicketEvent.id,
            TicketEvent.ticket_id,
            TicketEvent.action,
            TicketEvent.occurred_at,
            TicketEvent.agency_id,
            Ticket.direction,
            *(
                fact.as_boolean() if kind is bool else fact.as_string()
                for fact, kind in zip(facts, _PAYLOAD_FACTS.values(), strict=True)
            ),
        )
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(*window)
        .order_by(TicketEvent.occurred_at, TicketEvent.id)
    )
    for event_id, ticket_id, action, occurred_at, agency, direction, *values in rows:
        # Only the payload facts KPIs read travel: decoding whole payloads (reply texts)
        # would cost more than all the counting.
        payload = {k: v for k, v in zip(_PAYLOAD_FACTS, values, strict=True) if v is not None}
        if action is Action.CLOSE:
            payload.update(closes.get(event_id, {}))
        yield LoggedEvent(
            event_id,
            ticket_id,
            EventFact(action, occurred_at, agency, payload, direction, event_id in intakes),
        )


def _close_facts(db: Session, window: list[Any]) -> dict[int, dict[str, Any]]:
    """For each close in the window: when its ticket was last replied to, and the deadline
    that reply had (the reply event recorded it, extensions included)."""
    reply = aliased(TicketEvent)
    last_reply_seq = (
        sa.select(sa.func.max(reply.seq))
        .where(
            reply.ticket_id == TicketEvent.ticket_id,
            reply.action == Action.REPLY,
            reply.seq < TicketEvent.seq,
        )
        .scalar_subquery()
    )
    last = aliased(TicketEvent)
    rows = db.execute(
        sa.select(TicketEvent.id, last.occurred_at, last.payload["due_at"].as_string())
        .join(last, sa.and_(last.ticket_id == TicketEvent.ticket_id, last.seq == last_reply_seq))
        .where(*window, TicketEvent.action == Action.CLOSE)
    )
    return {
        event_id: {"replied_at": to_local(occurred_at).isoformat(), "reply_due_at": due}
        for event_id, occurred_at, due in rows
    }


def _non_police_intakes(db: Session, window: list[Any]) -> set[int]:
    """The 受理 events in the window of 110 calls that were not police matters."""
    rows = db.execute(
        sa.select(TicketEvent.id, Ticket.direction, Call.routing, Transfer.corrected_label)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .join(Call, Call.id == Ticket.call_id)
        .outerjoin(Transfer, Transfer.call_id == Call.id)
        .where(
            *window,
            TicketEvent.action == Action.CREATE,
            Ticket.source_hotline == Hotline.POLICE_110,
        )
    )
    return {
        event_id
        for event_id, direction, routing, label in rows
        if is_non_police_110(
            Hotline.POLICE_110,
            direction,
            (routing or {}).get("classifier_decision"),
            (label or {}).get("police"),
        )
    }


def range_counts(db: Session, start: datetime, end: datetime) -> dict[int | None, KpiCounts]:
    """The flow counts of [start, end), per agency (None: the centre), from the event log."""
    return count_events(e.fact for e in logged_events(db, start, end))


def overdue_counts(db: Session, at: datetime) -> dict[int | None, int]:
    """Open tickets past their running deadline at ``at``, per lead agency."""
    rows = db.execute(
        sa.select(Ticket.lead_agency_id, sa.func.count())
        .where(Ticket.is_open, Ticket.next_due_at < at)
        .group_by(Ticket.lead_agency_id)
    )
    return {agency_id: number for agency_id, number in rows}


def day_counts(db: Session, day: date) -> dict[int | None, KpiCounts]:
    """The counts of one day, per agency (None: the centre), straight from the event log."""
    start, end = day_bounds(day)
    counts = range_counts(db, start, end)
    for agency_id, number in overdue_counts(db, end).items():
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
