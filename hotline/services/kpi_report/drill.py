"""Drill-down: the tickets behind any number of the KPI table or the overdue list.

A KPI count is a count of events, so the list has one row per event (a ticket dispatched
twice to the same agency in the period is listed twice, as it was counted twice). The rows
come from the same reading of the event log as the daily freeze (``logged_events`` and
``event_increments``), so the list's length is the number shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.errors import ValidationError
from hotline.domain.kpis import FIELD_ACTIONS, STOCK_FIELDS, event_increments
from hotline.domain.lifecycle import Action, TicketState
from hotline.models import Agency, Ticket
from hotline.services.kpi_report.overdue import Bucket, overdue_tickets
from hotline.services.kpi_report.period import Period
from hotline.services.reports import CITY, logged_events, scope_of

MAX_ROWS = 2_000
# Counts a drill-down can list (a sum of seconds is not a number of events).
MEASURES: dict[str, str] = {
    "dispatched": "派单（含重办）",
    "signed": "签收",
    "signed_on_time": "按时签收",
    "signed_within_24h": "24小时内签收",
    "returns_requested": "退单申请",
    "returns_approved": "同意退单",
    "extensions_requested": "延期申请",
    "extensions_approved": "同意延期",
    "replied": "答复",
    "replied_on_time": "按时答复",
    "replied_late": "超期答复",
    "resolved": "答复已解决",
    "contacted": "答复已联系来电人",
    "handling_count": "有派单时间的答复（办理时长样本）",
    "reopened": "重办",
    "followed_up": "回访",
    "very_satisfied": "回访：非常满意",
    "satisfied": "回访：满意",
    "fairly_satisfied": "回访：基本满意",
    "dissatisfied": "回访：不满意",
    "very_dissatisfied": "回访：非常不满意",
    "closed": "办结",
    "closed_on_time": "按时办结",
    "answered_directly": "直办",
    "chased": "催办",
    "supervised": "督办",
    "criticized": "通报",
    "created_in_12345": "12345 本平台受理",
    "transferred_110_to_12345": "110转12345",
    "transferred_12345_to_110": "12345转110",
    "non_police_110": "110 非警情",
    "diverted_110": "110 非警情转 12345",
}
assert not STOCK_FIELDS & MEASURES.keys() and MEASURES.keys() <= FIELD_ACTIONS.keys()


@dataclass(frozen=True)
class DrillRow:
    ticket_id: int
    number: str
    summary: str
    state: TicketState
    agency: str
    what: str  # the event (or the deadline) that put the ticket in the list
    at: datetime


@dataclass
class Drill:
    title: str
    rows: list[DrillRow]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)

    @property
    def distinct_tickets(self) -> int:
        return len({r.ticket_id for r in self.rows})


def parse_measures(raw: str | None) -> tuple[str, ...]:
    names = tuple(n for n in (raw or "").split(",") if n)
    unknown = [n for n in names if n not in MEASURES]
    if not names or unknown:
        raise ValidationError(
            "measure", f"未知的统计项“{','.join(unknown) or raw or ''}”，请从报表中的数字进入明细"
        )
    return names


def parse_agency(db: Session, raw: str | None) -> Agency | None:
    """None: the whole city. An id that names no agency is an error, never an empty list."""
    if raw is None or raw in ("", CITY):
        return None
    agency = db.get(Agency, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if agency is None:
        raise ValidationError("agency", f"未知的承办单位“{raw}”")
    return agency


def event_drill(
    db: Session, period: Period, measures: tuple[str, ...], agency: Agency | None
) -> Drill:
    actions: set[Action] = set().union(*(FIELD_ACTIONS[m] for m in measures))
    scope = CITY if agency is None else scope_of(agency.id)
    hits = []
    for logged in logged_events(db, period.start, period.end, scope=scope, actions=actions):
        increments = event_increments(logged.fact)
        times = sum(increments.get(m, 0) for m in measures)
        hits.extend([logged] * times)
    where = agency.name if agency is not None else "全市"
    title = f"{where} · {'＋'.join(MEASURES[m] for m in measures)} · {period.label()}"
    shown = hits[:MAX_ROWS]
    tickets = tickets_by_id(db, {h.ticket_id for h in shown})
    names = _agency_names(db, {h.fact.agency_id for h in shown})
    rows = [
        _row(tickets[h.ticket_id], h.fact.action.label, h.fact.occurred_at, names, h.fact.agency_id)
        for h in shown
    ]
    return Drill(title, rows, len(hits))


def overdue_drill(
    db: Session,
    calendar: WorkingCalendar,
    now: datetime,
    agency: Agency | None,
    bucket: Bucket | None,
) -> Drill:
    found = overdue_tickets(
        db, calendar, now, agency_id=agency.id if agency else None, bucket=bucket
    )
    where = agency.name if agency is not None else "全市"
    title = f"{where} · 当前超期工单" + (f" · 超期 {bucket.label}" if bucket else "")
    shown = found[:MAX_ROWS]
    tickets = tickets_by_id(db, {t.ticket_id for t in shown})
    names = _agency_names(db, {t.agency_id for t in shown})
    rows = [
        _row(tickets[t.ticket_id], f"超期 {t.days_late} 个工作日", t.due_at, names, t.agency_id)
        for t in shown
    ]
    return Drill(title, rows, len(found))


def tickets_by_id(db: Session, ids: Iterable[int]) -> dict[int, Ticket]:
    wanted = list(ids)
    found: dict[int, Ticket] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for ticket in db.scalars(sa.select(Ticket).where(Ticket.id.in_(chunk))):
            found[ticket.id] = ticket
    return found


def _agency_names(db: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return dict(db.execute(sa.select(Agency.id, Agency.name).where(Agency.id.in_(wanted))).all())


def _row(
    ticket: Ticket, what: str, at: datetime, names: dict[int, str], agency_id: int | None
) -> DrillRow:
    """``agency`` is the agency the count concerns (for a return: the one that gave it back),
    not necessarily the ticket's lead today."""
    agency = names.get(agency_id, "—") if agency_id is not None else "热线中心"
    return DrillRow(ticket.id, ticket.number, ticket.summary, ticket.state, agency, what, at)
