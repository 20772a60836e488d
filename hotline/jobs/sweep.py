"""The deadline sweep: one tick records every alert that has fallen due, exactly once.

A tick asks the ``(next_alert_at, id)`` index which tickets need looking at (nothing due costs
one index probe), claims them with a conditional UPDATE of ``next_alert_at`` (a second
scheduler's UPDATE matches nothing and moves on) and records the due alerts in ticket_alerts
(unique per ticket, kind and deadline). 预警 / 超期 for a whole batch are claimed, recorded and
notified in one transaction; 催办 / 通报 are real lifecycle actions by the system, filed one
ticket per transaction. A crash rolls back the work in hand, which the next tick redoes.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import to_local
from hotline.domain.deadlines import default_policies
from hotline.domain.errors import ConflictError, TransitionError
from hotline.domain.lifecycle import TicketState
from hotline.domain.policies import AlertKind, PolicySet, alert_schedule, next_alert
from hotline.models import Notification, OutboxMessage, Ticket, TicketAlert
from hotline.models.engine import insert_ignoring_duplicates
from hotline.models.tickets import ticket_number
from hotline.services import tickets as svc
from hotline.services.context import SYSTEM, Context

BATCH = 1000
log = logging.getLogger("hotline.scheduler")


@dataclass
class TickReport:
    looked_at: int = 0
    claimed: int = 0
    alerts: Counter[str] = field(default_factory=Counter)
    deferred: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Claim:
    ticket_id: int
    seen: datetime
    due: datetime | None
    kinds: tuple[AlertKind, ...]
    next_at: datetime | None
    message: _Message | None


@dataclass(frozen=True)
class _Message:
    agency_id: int
    number: str
    clock: str


# 预警 and 超期 only record and notify: a whole batch of them is claimed and written in one
# transaction. 催办 and 通报 are lifecycle actions and take the one-ticket path.
_ACTIONS = frozenset({AlertKind.CHASE, AlertKind.CRITICISM})


def tick(
    db: Session,
    now: datetime,
    calendar: WorkingCalendar,
    policies: PolicySet | None = None,
    channels: tuple[str, ...] = ("log",),
) -> TickReport:
    report = TickReport()
    ctx = Context(
        db=db, actor=SYSTEM, now=now, calendar=calendar, policies=policies or default_policies()
    )
    rows = db.execute(
        sa.select(
            Ticket.id,
            Ticket.next_alert_at,
            Ticket.next_due_at,
            Ticket.dispatched_at,
            Ticket.created_at,
            Ticket.state,
            Ticket.lead_agency_id,
        )
        .where(Ticket.next_alert_at <= now)
        .order_by(Ticket.next_alert_at, Ticket.id)
        .limit(BATCH)
    ).all()
    report.looked_at = len(rows)
    if not rows:
        db.rollback()
        return report
    recorded = _recorded(db, [row.id for row in rows])
    claims: list[_Claim] = []
    one_by_one: list[tuple[int, datetime]] = []
    for row in rows:
        claim = _plan(ctx, row, recorded.get((row.id, row.next_due_at), set()))
        if claim is None:
            one_by_one.append((row.id, row.next_alert_at))
        else:
            claims.append(claim)
    _record_batch(ctx, claims, report, channels)
    db.commit()
    for ticket_id, seen in one_by_one:
        try:
            if _process(ctx, ticket_id, seen, report, channels):
                report.claimed += 1
            db.commit()
        except ConflictError:
            db.rollback()  # a person changed the ticket meanwhile: the next tick retries
            report.deferred += 1
        except Exception:
            # One broken ticket must not hold back the others behind it in this tick.
            db.rollback()
            log.exception("sweep: ticket %s failed; it is retried next tick", ticket_id)
            report.failed += 1
    return report


def _recorded(db: Session, ticket_ids: list[int]) -> dict[tuple[int, datetime], set[AlertKind]]:
    done: dict[tuple[int, datetime], set[AlertKind]] = {}
    if _is_postgres(db):
        rows = db.execute(_PG_RECORDED, {"ids": ticket_ids})
    else:
        rows = db.execute(
            sa.select(TicketAlert.ticket_id, TicketAlert.due_at, TicketAlert.kind).where(
                TicketAlert.ticket_id.in_(ticket_ids)
            )
        )
    for ticket_id, due_at, kind in rows:
        done.setdefault((ticket_id, due_at), set()).add(AlertKind(kind))
    return done


def _plan(ctx: Context, row: sa.Row[Any], done: set[AlertKind]) -> _Claim | None:
    """What the sweep owes this ticket now, or None when it owes a lifecycle action."""
    if row.next_due_at is None:  # no clock runs any more: just stop looking at it
        return _Claim(row.id, row.next_alert_at, None, (), None, None)
    schedule = alert_schedule(
        svc.clock_started_at(row), row.next_due_at, ctx.calendar, ctx.warning_share
    )
    kinds = tuple(k for k, at in schedule if at <= ctx.now and k not in done)
    if _ACTIONS.intersection(kinds):
        return None
    message = None
    if row.lead_agency_id is not None:
        number = ticket_number(row.created_at, row.id)
        clock = _clock_label(row.state)
        message = _Message(row.lead_agency_id, number, clock)
    next_at = next_alert(schedule, done.union(kinds))
    return _Claim(row.id, row.next_alert_at, row.next_due_at, kinds, next_at, message)


def _record_batch(
    ctx: Context, claims: list[_Claim], report: TickReport, channels: tuple[str, ...]
) -> None:
    if not claims:
        return
    won = _claim_all(ctx.db, claims)
    report.claimed += len(won)
    alerts: list[tuple[int, str, datetime]] = []
    notes: list[tuple[int, int, str, str]] = []
    for claim in claims:
        if claim.ticket_id not in won or claim.due is None:
            continue
        for kind in claim.kinds:
            report.alerts[kind.value] += 1
            alerts.append((claim.ticket_id, kind.value, claim.due))
            if claim.message is not None:
                text = _text(kind, claim.message.number, claim.message.clock, claim.due)
                notes.append((claim.message.agency_id, claim.ticket_id, kind.value, text))
    _write(ctx.db, ctx.now, alerts, notes, channels)


def _is_postgres(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


# On PostgreSQL a batch travels as a few arrays: fixed statements that the driver and the
# server prepare once, instead of thousands of parameters rebuilt and re-parsed every tick.
_PG_RECORDED = sa.text(
    "SELECT ticket_id, due_at, kind FROM ticket_alerts "
    "WHERE ticket_id = ANY(CAST(:ids AS bigint[]))"
)
_PG_CLAIM = sa.text(
    """
    UPDATE tickets SET next_alert_at = c.next_at
    FROM unnest(CAST(:ids AS bigint[]), CAST(:seen AS timestamptz[]),
                CAST(:next AS timestamptz[])) AS c(id, seen, next_at)
    WHERE tickets.id = c.id AND tickets.next_alert_at = c.seen
    RETURNING tickets.id
    """
)
_PG_ALERTS = sa.text(
    """
    INSERT INTO ticket_alerts (ticket_id, kind, due_at, recorded_at)
    SELECT t, k, d, CAST(:now AS timestamptz)
    FROM unnest(CAST(:tickets AS bigint[]), CAST(:kinds AS text[]),
                CAST(:dues AS timestamptz[])) AS a(t, k, d)
    ON CONFLICT DO NOTHING
    """
)
_PG_NOTIFY = sa.text(
    """
    WITH n AS (
        INSERT INTO notifications (agency_id, ticket_id, kind, message, created_at)
        SELECT a, t, k, m, CAST(:now AS timestamptz)
        FROM unnest(CAST(:agencies AS integer[]), CAST(:tickets AS bigint[]),
                    CAST(:kinds AS text[]), CAST(:messages AS text[])) AS x(a, t, k, m)
        RETURNING id
    )
    INSERT INTO outbox (notification_id, channel, attempts, next_attempt_at, created_at)
    SELECT n.id, ch, 0, CAST(:now AS timestamptz), CAST(:now AS timestamptz)
    FROM n CROSS JOIN unnest(CAST(:channels AS text[])) AS ch
    """
)


def _claim_pg(db: Session, claims: list[_Claim]) -> set[int]:
    """Move each ticket's next_alert_at from the value this tick saw; returns the ids won.
    A second scheduler's UPDATE finds the values changed and wins nothing."""
    rows = db.execute(
        _PG_CLAIM,
        {
            "ids": [c.ticket_id for c in claims],
            "seen": [c.seen for c in claims],
            "next": [c.next_at for c in claims],
        },
    )
    return {ticket_id for (ticket_id,) in rows}


def _claim_each(db: Session, claims: list[_Claim]) -> set[int]:
    """SQLite has one writer at a time anyway: claim row by row in the same transaction."""
    won: set[int] = set()
    for claim in claims:
        updated = db.execute(
            sa.update(Ticket)
            .where(Ticket.id == claim.ticket_id, Ticket.next_alert_at == claim.seen)
            .values(next_alert_at=claim.next_at)
            .execution_options(synchronize_session=False)
        ).rowcount
        if updated == 1:
            won.add(claim.ticket_id)
    return won


def _claim_all(db: Session, claims: list[_Claim]) -> set[int]:
    return _claim_pg(db, claims) if _is_postgres(db) else _claim_each(db, claims)


def _write(
    db: Session,
    now: datetime,
    alerts: list[tuple[int, str, datetime]],
    notes: list[tuple[int, int, str, str]],
    channels: tuple[str, ...],
) -> None:
    """Record alerts (ticket, kind, deadline) and notify (agency, ticket, kind, message) on
    the inbox and every channel's outbox."""
    write = _write_pg if _is_postgres(db) else _write_each
    write(db, now, alerts, notes, channels)


def _write_pg(
    db: Session,
    now: datetime,
    alerts: list[tuple[int, str, datetime]],
    notes: list[tuple[int, int, str, str]],
    channels: tuple[str, ...],
) -> None:
    if alerts:
        tickets, kinds, dues = (list(column) for column in zip(*alerts, strict=True))
        db.execute(_PG_ALERTS, {"tickets": tickets, "kinds": kinds, "dues": dues, "now": now})
    if notes:
        agencies, tickets, kinds, messages = (list(column) for column in zip(*notes, strict=True))
        db.execute(
            _PG_NOTIFY,
            {
                "agencies": agencies,
                "tickets": tickets,
                "kinds": kinds,
                "messages": messages,
                "channels": list(channels),
                "now": now,
            },
        )


def _write_each(
    db: Session,
    now: datetime,
    alerts: list[tuple[int, str, datetime]],
    notes: list[tuple[int, int, str, str]],
    channels: tuple[str, ...],
) -> None:
    if alerts:
        rows = [{"ticket_id": t, "kind": k, "due_at": d, "recorded_at": now} for t, k, d in alerts]
        db.execute(insert_ignoring_duplicates(db, TicketAlert), rows)
    if notes:
        ids = db.scalars(
            sa.insert(Notification).returning(Notification.id, sort_by_parameter_order=True),
            [
                {"agency_id": a, "ticket_id": t, "kind": k, "message": m, "created_at": now}
                for a, t, k, m in notes
            ],
        ).all()
        outbox = [
            {"notification_id": i, "channel": ch, "next_attempt_at": now, "created_at": now}
            for i in ids
            for ch in channels
        ]
        if outbox:
            db.execute(sa.insert(OutboxMessage), outbox)


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
            if kind in _ACTIONS:
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
    text = _text(kind, ticket.number, _clock_label(ticket.state), due)
    notes = [(ticket.lead_agency_id, ticket.id, kind.value, text)]
    lead = ticket.lead_agency
    if kind is AlertKind.CRITICISM and lead is not None and lead.parent_id is not None:
        escalation = f"下属单位{lead.name}的{text}，请督促办理"
        notes.append((lead.parent_id, ticket.id, "escalation", escalation))
    _write(ctx.db, ctx.now, [], notes, channels)


def _clock_label(state: TicketState) -> str:
    return "签收" if state is TicketState.DISPATCHED else "办理"


def _text(kind: AlertKind, number: str, clock: str, due: datetime) -> str:
    when = to_local(due).strftime("%m月%d日 %H:%M")
    return {
        AlertKind.WARNING: f"工单 {number} 的{clock}时限将于 {when} 到期，请抓紧办理",
        AlertKind.OVERDUE: f"工单 {number} 已超过{clock}时限（{when}）",
        AlertKind.CHASE: f"工单 {number} 已超期，系统已催办，请立即办理",
        AlertKind.CRITICISM: f"工单 {number} 超期超过 5 个工作日，已通报",
    }[kind]
