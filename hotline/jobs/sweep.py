"""The deadline sweep: one tick records every alert that has fallen due, exactly once.

A tick asks the ``(next_alert_at, id)`` index which tickets need looking at, claims each with
a conditional UPDATE (a second scheduler's UPDATE matches nothing and moves on), records the
due alerts in ticket_alerts (unique per ticket, kind and deadline) and files 催办 / 通报 as
real lifecycle actions by the system. It commits per ticket, so a crash loses at most the
ticket in hand, which the next tick picks up again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.errors import ConflictError, TransitionError
from hotline.domain.policies import AlertKind, alert_schedule
from hotline.models import Ticket, TicketAlert
from hotline.services import tickets as svc
from hotline.services.context import SYSTEM, Context

BATCH = 1000


@dataclass
class TickReport:
    looked_at: int = 0
    claimed: int = 0
    alerts: Counter[str] = field(default_factory=Counter)
    deferred: int = 0


def tick(
    db: Session, now: datetime, calendar: WorkingCalendar, warning_share: float = 0.8
) -> TickReport:
    report = TickReport()
    rows = db.execute(
        sa.select(Ticket.id, Ticket.next_alert_at)
        .where(Ticket.next_alert_at <= now)
        .order_by(Ticket.next_alert_at, Ticket.id)
        .limit(BATCH)
    ).all()
    db.rollback()  # end the read: each ticket gets its own short transaction below
    ctx = Context(db=db, actor=SYSTEM, now=now, calendar=calendar, warning_share=warning_share)
    for ticket_id, seen in rows:
        report.looked_at += 1
        try:
            if _process(ctx, ticket_id, seen, report):
                report.claimed += 1
            db.commit()
        except ConflictError:
            db.rollback()  # a person changed the ticket meanwhile: the next tick retries
            report.deferred += 1
    return report


def _process(ctx: Context, ticket_id: int, seen: datetime, report: TickReport) -> bool:
    db = ctx.db
    # The claim: only the process that moves next_alert_at from the value it saw does the work.
    claimed = db.execute(
        sa.update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.next_alert_at == seen)
        .values(next_alert_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False
    ticket = db.get(Ticket, ticket_id, populate_existing=True)
    assert ticket is not None
    due = ticket.next_due_at
    if due is not None:
        start = ticket.dispatched_at or ticket.created_at
        recorded = set(
            db.scalars(
                sa.select(TicketAlert.kind).where(
                    TicketAlert.ticket_id == ticket_id, TicketAlert.due_at == due
                )
            )
        )
        for kind, at in alert_schedule(start, due, ctx.calendar, ctx.warning_share):
            if at > ctx.now or kind.value in recorded:
                continue
            if kind in (AlertKind.CHASE, AlertKind.CRITICISM):
                _file_action(ctx, ticket_id, kind)
            db.add(
                TicketAlert(ticket_id=ticket_id, kind=kind.value, due_at=due, recorded_at=ctx.now)
            )
            db.flush()
            report.alerts[kind.value] += 1
    db.refresh(ticket)
    ticket.next_alert_at = svc.next_alert_at(ctx, ticket)
    db.flush()
    return True


def _file_action(ctx: Context, ticket_id: int, kind: AlertKind) -> None:
    try:
        if kind is AlertKind.CHASE:
            svc.chase(ctx, ticket_id, note="已超过办理时限，系统自动催办")
        else:
            svc.criticize(ctx, ticket_id, note="超期超过 5 个工作日仍未办结，系统自动通报")
    except TransitionError:
        pass  # the ticket moved to a state where this no longer applies; the alert still counts
