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
from hotline.domain.clock import to_local
from hotline.domain.deadlines import default_policies
from hotline.domain.errors import ConflictError, TransitionError
from hotline.domain.lifecycle import TicketState
from hotline.domain.policies import AlertKind, PolicySet
from hotline.models import Notification, OutboxMessage, Ticket, TicketAlert
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
    db: Session,
    now: datetime,
    calendar: WorkingCalendar,
    policies: PolicySet | None = None,
    channels: tuple[str, ...] = ("log",),
) -> TickReport:
    report = TickReport()
    rows = db.execute(
        sa.select(Ticket.id, Ticket.next_alert_at)
        .where(Ticket.next_alert_at <= now)
        .order_by(Ticket.next_alert_at, Ticket.id)
        .limit(BATCH)
    ).all()
    db.rollback()  # end the read: each ticket gets its own short transaction below
    ctx = Context(
        db=db, actor=SYSTEM, now=now, calendar=calendar, policies=policies or default_policies()
    )
    for ticket_id, seen in rows:
        report.looked_at += 1
        try:
            if _process(ctx, ticket_id, seen, report, channels):
                report.claimed += 1
            db.commit()
        except ConflictError:
            db.rollback()  # a person changed the ticket meanwhile: the next tick retries
            report.deferred += 1
    return report


def _process(
    ctx: Context, ticket_id: int, seen: datetime, report: TickReport, channels: tuple[str, ...]
) -> bool:
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
    schedule, recorded = svc.alert_plan(ctx, ticket)
    if due is not None:
        for kind, at in schedule:
            if at > ctx.now or kind in recorded:
                continue
            if kind in (AlertKind.CHASE, AlertKind.CRITICISM):
                _file_action(ctx, ticket_id, kind)
            db.add(
                TicketAlert(ticket_id=ticket_id, kind=kind.value, due_at=due, recorded_at=ctx.now)
            )
            _notify(ctx, ticket, kind, due, channels)
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


def _notify(
    ctx: Context, ticket: Ticket, kind: AlertKind, due: datetime, channels: tuple[str, ...]
) -> None:
    """The lead agency hears of every alert; on 通报 its supervising agency hears too."""
    if ticket.lead_agency_id is None:
        return
    clock = "签收" if ticket.state is TicketState.DISPATCHED else "办理"
    when = to_local(due).strftime("%m月%d日 %H:%M")
    text = {
        AlertKind.WARNING: f"工单 {ticket.number} 的{clock}时限将于 {when} 到期，请抓紧办理",
        AlertKind.OVERDUE: f"工单 {ticket.number} 已超过{clock}时限（{when}）",
        AlertKind.CHASE: f"工单 {ticket.number} 已超期，系统已催办，请立即办理",
        AlertKind.CRITICISM: f"工单 {ticket.number} 超期超过 5 个工作日，已通报",
    }[kind]
    recipients = [(ticket.lead_agency_id, kind.value, text)]
    lead = ticket.lead_agency
    if kind is AlertKind.CRITICISM and lead is not None and lead.parent_id is not None:
        recipients.append(
            (lead.parent_id, "escalation", f"下属单位{lead.name}的{text}，请督促办理")
        )
    for agency_id, label, message in recipients:
        notification = Notification(
            agency_id=agency_id,
            ticket_id=ticket.id,
            kind=label,
            message=message,
            created_at=ctx.now,
        )
        ctx.db.add(notification)
        ctx.db.flush()
        for channel in channels:
            ctx.db.add(
                OutboxMessage(
                    notification_id=notification.id,
                    channel=channel,
                    next_attempt_at=ctx.now,
                    created_at=ctx.now,
                )
            )
