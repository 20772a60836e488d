"""Is anything lost or half-written? A read-only audit of the ticket store.

What must always hold, whatever crashed or was retried:
- every transferred call has exactly one ticket, every queued call none, and a transfer names
  the ticket of its own call;
- every ticket's event log is complete: events 1..version without a gap, the first one 受理,
  the last one leading to the ticket's state;
- no ticket is stuck: a ticket with an agency has a lead agency, and its running deadline is
  the one its state and clocks say.

(The schema itself keeps events append-only and the open flag in step with the state, so those
need no query here.)

Each check is one query (the deadline check reads only open tickets), so it runs in seconds at a
million tickets; ``hotline check`` runs it for operators, the drills after every fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from hotline.domain import deadlines
from hotline.domain.lifecycle import Action, TicketState
from hotline.domain.vocabulary import CallStatus
from hotline.models import Call, OutboxMessage, Ticket, TicketEvent, Transfer

SAMPLE = 20


@dataclass
class Problem:
    name: str
    description: str
    count: int
    sample: list[int]


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        facts = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        out = [f"{'PASS' if self.ok else 'FAIL'}: {facts}"]
        for p in self.problems:
            out.append(f"  {p.name}: {p.count} — {p.description}; e.g. ids {p.sample}")
        return out


def check(db: Session) -> Report:
    report = Report()
    report.counts = {
        "calls": _count(db, sa.select(sa.func.count()).select_from(Call)),
        "tickets": _count(db, sa.select(sa.func.count()).select_from(Ticket)),
        "events": _count(db, sa.select(sa.func.count()).select_from(TicketEvent)),
        "transfers": _count(db, sa.select(sa.func.count()).select_from(Transfer)),
        "outbox_pending": _count(
            db,
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None)),
        ),
    }
    for name, description, ids_query in _id_checks():
        _collect(db, report, name, description, ids_query)
    _check_running_deadlines(db, report)
    return report


def _count(db: Session, query: sa.Select) -> int:
    return int(db.scalar(query) or 0)


def _collect(db: Session, report: Report, name: str, description: str, ids: sa.Select) -> None:
    sub = ids.subquery()
    count = _count(db, sa.select(sa.func.count()).select_from(sub))
    if count:
        sample = list(db.scalars(sa.select(sub.c[0]).order_by(sub.c[0]).limit(SAMPLE)))
        report.problems.append(Problem(name, description, count, sample))


def _id_checks() -> list[tuple[str, str, sa.Select]]:
    tickets_per_call = (
        sa.select(Ticket.call_id, sa.func.count().label("n")).group_by(Ticket.call_id).subquery()
    )
    stats = (
        sa.select(
            TicketEvent.ticket_id,
            sa.func.count().label("n"),
            sa.func.min(TicketEvent.seq).label("lo"),
            sa.func.max(TicketEvent.seq).label("hi"),
        )
        .group_by(TicketEvent.ticket_id)
        .subquery()
    )
    first = aliased(TicketEvent)
    last = aliased(TicketEvent)
    agency_states = [s for s in TicketState if s.with_agency]
    return [
        (
            "transferred_call_without_one_ticket",
            "转接成功的来电没有恰好一张工单",
            sa.select(Call.id)
            .outerjoin(tickets_per_call, tickets_per_call.c.call_id == Call.id)
            .where(
                Call.status == CallStatus.TRANSFERRED,
                sa.func.coalesce(tickets_per_call.c.n, 0) != 1,
            ),
        ),
        (
            "queued_call_with_ticket",
            "待转接的来电已有工单",
            sa.select(Call.id)
            .join(tickets_per_call, tickets_per_call.c.call_id == Call.id)
            .where(Call.status == CallStatus.QUEUED),
        ),
        (
            "transfer_of_another_call",
            "转接记录指向别的来电的工单",
            sa.select(Transfer.id)
            .join(Ticket, Ticket.id == Transfer.ticket_id)
            .where(Ticket.call_id != Transfer.call_id),
        ),
        (
            "event_log_gap",
            "事件序号不是 1..版本号（缺失或多余）",
            sa.select(Ticket.id)
            .outerjoin(stats, stats.c.ticket_id == Ticket.id)
            .where(
                sa.or_(
                    stats.c.n.is_(None),
                    stats.c.n != Ticket.version,
                    stats.c.lo != 1,
                    stats.c.hi != Ticket.version,
                )
            ),
        ),
        (
            "first_event_not_create",
            "第一条事件不是受理",
            sa.select(Ticket.id)
            .join(first, sa.and_(first.ticket_id == Ticket.id, first.seq == 1))
            .where(first.action != Action.CREATE),
        ),
        (
            "state_differs_from_last_event",
            "工单状态与最后一条事件不符",
            sa.select(Ticket.id)
            .join(last, sa.and_(last.ticket_id == Ticket.id, last.seq == Ticket.version))
            .where(last.to_state != Ticket.state),
        ),
        (
            "agency_state_without_lead",
            "在承办单位手中的工单没有主办单位，无人可办",
            sa.select(Ticket.id).where(
                Ticket.state.in_(agency_states), Ticket.lead_agency_id.is_(None)
            ),
        ),
    ]


def _check_running_deadlines(db: Session, report: Report) -> None:
    """The stored next deadline is what the state and the clocks say: otherwise the sweep would
    miss the ticket (a stuck clock) or alert on a clock that is not running."""
    rows = db.execute(
        sa.select(
            Ticket.id, Ticket.state, Ticket.sign_for_due_at, Ticket.reply_due_at, Ticket.next_due_at
        )
        .where(Ticket.is_open.is_(True))
        .execution_options(yield_per=5000)
    )
    wrong = [
        ticket_id
        for ticket_id, state, sign_for, reply, stored in rows
        if deadlines.next_due(state, sign_for, reply) != stored
    ]
    if wrong:
        report.problems.append(
            Problem(
                "running_deadline_wrong", "当前时限与状态和时钟不符", len(wrong), wrong[:SAMPLE]
            )
        )
