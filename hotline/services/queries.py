"""Read-side queries shaped by the indexes in hotline.models.tickets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.domain.lifecycle import TicketState
from hotline.domain.vocabulary import Role
from hotline.models import Notification, Ticket, TicketAgency
from hotline.services.context import Context

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Page:
    items: list[Ticket]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def state_counts(ctx: Context, *, finished: bool = True) -> dict[TicketState, int | None]:
    """Tickets per state the actor may see. ``finished=False`` leaves the finished states
    uncounted (None) for the 12345 side: they are ~96 % of a million tickets, and counting
    them on every inbox view read all of them (150–300 ms); the open ones come from the
    small partial index. An agency's counts are cheap either way and always complete."""
    counted = sa.select(Ticket.state, sa.func.count()).group_by(Ticket.state)
    counts: dict[TicketState, int | None] = dict.fromkeys(TicketState, 0)
    if ctx.actor.role is Role.AGENCY_STAFF:
        # _scope's "lead OR assisting" makes PostgreSQL read every ticket (300 ms at 1M). As two
        # disjoint parts, the led tickets are counted from ix_tickets_lead_agency_id_state alone
        # and the few assisted / informed ones through ticket_agencies.
        agency = ctx.actor.agency_id
        parts = [
            counted.where(Ticket.lead_agency_id == agency),
            counted.join(TicketAgency, TicketAgency.ticket_id == Ticket.id).where(
                TicketAgency.agency_id == agency,
                sa.or_(Ticket.lead_agency_id != agency, Ticket.lead_agency_id.is_(None)),
            ),
        ]
    elif finished:
        parts = [counted]
    else:
        parts = [counted.where(Ticket.is_open.is_(True))]
        counts.update({state: None for state in TicketState if not state.is_open})
    for part in parts:
        for state, n in ctx.db.execute(part):
            counts[state] = (counts[state] or 0) + n
    return counts


def agency_inbox(db: Session, agency_id: int, *, limit: int = 50) -> list[Ticket]:
    """Open tickets an agency leads, most pressing first: served by ix_tickets_inbox.

    NULLS LAST is spelled out because the databases disagree by default: tickets whose clock
    is paused or with 12345 come after those running against a deadline, on both.
    """
    return list(
        db.scalars(
            sa.select(Ticket)
            .where(Ticket.lead_agency_id == agency_id, Ticket.is_open.is_(True))
            .order_by(Ticket.priority_rank, Ticket.next_due_at.asc().nulls_last(), Ticket.id)
            .limit(limit)
        )
    )


class DueTicket(NamedTuple):
    id: int
    next_due_at: datetime
    state: TicketState
    lead_agency_id: int | None
    priority_rank: int
    version: int


def due_before(
    db: Session,
    moment: datetime,
    *,
    limit: int = 1000,
    after: tuple[datetime, int] | None = None,
) -> list[DueTicket]:
    """Tickets whose current clock runs out before ``moment``, earliest first.

    Returns only what a deadline sweep needs (building 1,000 full ORM objects costs ~20 ms;
    the indexed query itself ~1 ms at 1M tickets). Page with ``after=(next_due_at, id)`` of
    the last row: the (next_due_at, id) index serves both the condition and the order.
    """
    query = sa.select(
        Ticket.id,
        Ticket.next_due_at,
        Ticket.state,
        Ticket.lead_agency_id,
        Ticket.priority_rank,
        Ticket.version,
    ).where(Ticket.next_due_at <= moment)
    if after is not None:
        query = query.where(sa.tuple_(Ticket.next_due_at, Ticket.id) > sa.tuple_(*after))
    rows = db.execute(query.order_by(Ticket.next_due_at, Ticket.id).limit(limit))
    return [DueTicket(*row) for row in rows]


def unread_notifications(ctx: Context, agency_id: int, *, limit: int = 10) -> list[Notification]:
    """An agency's newest unread alerts: served by ix_notifications_agency_unread."""
    return list(
        ctx.db.scalars(
            sa.select(Notification)
            .where(Notification.agency_id == agency_id, Notification.read_at.is_(None))
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )
