"""Tickets (工单), the agencies on them, and their append-only event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.domain.clock import to_local
from hotline.domain.lifecycle import Action, TicketState
from hotline.domain.vocabulary import AgencyRole, Direction, Hotline, Role, Satisfaction, Urgency
from hotline.models.base import Base, BigId, JSONType, enum_column_type
from hotline.models.calls import Call
from hotline.models.directory import Agency, User

_FINISHED_SQL = ", ".join(f"'{s.value}'" for s in TicketState if not s.is_open)
_RANKS_SQL = ", ".join(str(u.rank) for u in Urgency)
# Partial indexes over open tickets, spelled as the queries spell it (is_(True)): PostgreSQL
# uses one only when it proves the query's condition implies the index's.
_OPEN_ONLY: dict[str, Any] = {
    "postgresql_where": sa.text("is_open IS TRUE"),
    "sqlite_where": sa.text("is_open IS 1"),
}


def ticket_number(created_at: datetime, ticket_id: int) -> str:
    return f"GD{to_local(created_at):%Y%m%d}{ticket_id:08d}"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # is_open is stored only so indexes can use it; the database keeps it true to the state.
        sa.CheckConstraint(
            f"is_open = (CASE WHEN state IN ({_FINISHED_SQL}) THEN false ELSE true END)",
            name="is_open_matches_state",
        ),
        sa.CheckConstraint(f"priority_rank IN ({_RANKS_SQL})", name="priority_rank_known"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        # The agency inbox: open tickets of one lead agency, most pressing first.
        sa.Index("ix_tickets_inbox", "lead_agency_id", "is_open", "priority_rank", "next_due_at"),
        # The deadline sweep asks only "what is due before T?"; finished tickets hold NULL.
        sa.Index("ix_tickets_next_due_at", "next_due_at", "id"),
        # The sweep asks "which tickets need looking at before T?": one index range scan.
        sa.Index("ix_tickets_next_alert_at", "next_alert_at", "id"),
        # Workbench at 1M tickets (benchmarks/workbench_pages.py). An agency's state counts
        # read this index alone instead of every row it ever led.
        sa.Index("ix_tickets_lead_agency_id_state", "lead_agency_id", "state"),
        # Open tickets are ~4 % of all: small partial indexes. The 12345 side's queue (every
        # open ticket, most pressing first, and its count) without reading the finished ones.
        sa.Index(
            "ix_tickets_open_queue",
            "priority_rank",
            "next_due_at",
            "id",
            **_OPEN_ONLY,
        ),
        # The 12345 side's state counts of open tickets, from the index alone (reading the
        # ~40,000 open rows for their state cost 140 ms at 1M tickets).
        sa.Index("ix_tickets_open_state", "state", **_OPEN_ONLY),
        # What the inbox's level counts and filter menus read of an agency's open tickets,
        # so they are answered from the index (no heap visit per ticket).
        sa.Index(
            "ix_tickets_open_scope",
            "lead_agency_id",
            "category_level1",
            "district",
            "next_due_at",
            "dispatched_at",
            "created_at",
            **_OPEN_ONLY,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("calls.id"), index=True)
    direction: Mapped[Direction] = mapped_column(enum_column_type(Direction, "direction"))
    source_hotline: Mapped[Hotline] = mapped_column(enum_column_type(Hotline, "source_hotline"))
    summary: Mapped[str] = mapped_column(sa.String(200))
    category_level1: Mapped[str | None] = mapped_column(sa.String(32))
    category_level2: Mapped[str | None] = mapped_column(sa.String(64))
    category_level3: Mapped[str | None] = mapped_column(sa.String(64))
    # The call's district, copied at intake: the inbox filters and groups by it, and reading it
    # from calls cost one row lookup per open ticket.
    district: Mapped[str | None] = mapped_column(sa.String(50))
    priority_rank: Mapped[int] = mapped_column(sa.SmallInteger)
    # The deadline policy (deadline_policies.yaml) the clocks follow; set at dispatch.
    deadline_policy: Mapped[str | None] = mapped_column(sa.String(32))
    state: Mapped[TicketState] = mapped_column(enum_column_type(TicketState, "ticket_state"))
    is_open: Mapped[bool]
    lead_agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"))
    merged_into_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("tickets.id"))

    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    sign_for_due_at: Mapped[datetime | None]
    reply_due_at: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None]
    suspended_at: Mapped[datetime | None]
    next_alert_at: Mapped[datetime | None]

    extension_working_days: Mapped[int] = mapped_column(default=0, server_default="0")
    return_count: Mapped[int] = mapped_column(default=0, server_default="0")
    reopen_count: Mapped[int] = mapped_column(default=0, server_default="0")
    satisfaction: Mapped[Satisfaction | None] = mapped_column(
        enum_column_type(Satisfaction, "satisfaction")
    )
    version: Mapped[int] = mapped_column(default=1)

    # The service bumps the version itself, so every event (even one that leaves the state
    # unchanged) issues "UPDATE ... WHERE version = :seen" and a concurrent writer loses.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    call: Mapped[Call] = relationship()
    lead_agency: Mapped[Agency | None] = relationship()
    agencies: Mapped[list[TicketAgency]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan"
    )
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.seq", viewonly=True
    )

    @property
    def priority(self) -> Urgency:
        return next(u for u in Urgency if u.rank == self.priority_rank)

    @property
    def number(self) -> str:
        """The number read out on the phone: derived, so it can never disagree with the id."""
        return ticket_number(self.created_at, self.id)

    def __repr__(self) -> str:
        return f"<Ticket {self.id} {self.state.value} v{self.version}>"


class TicketAgency(Base):
    """Assisting (协办) and for-information (传阅) agencies; the lead lives on the ticket itself."""

    __tablename__ = "ticket_agencies"
    __table_args__ = (
        sa.CheckConstraint("role <> 'lead'", name="lead_is_on_ticket"),
        sa.Index("ix_ticket_agencies_agency_id_role", "agency_id", "role"),
    )

    ticket_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("tickets.id"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), primary_key=True)
    role: Mapped[AgencyRole] = mapped_column(enum_column_type(AgencyRole, "agency_role"))

    ticket: Mapped[Ticket] = relationship(back_populates="agencies")
    agency: Mapped[Agency] = relationship()


class TicketEvent(Base):
    """One step in a ticket's life. Rows are only ever inserted (enforced below and in the DB)."""

    __tablename__ = "ticket_events"
    __table_args__ = (
        # seq equals the ticket's version after the step: no gaps, no duplicates per ticket.
        sa.UniqueConstraint("ticket_id", "seq"),
        sa.Index("ix_ticket_events_action_occurred_at", "action", "occurred_at"),
        # KPI snapshots and reports read one period's events; agency attribution is on the row.
        sa.Index("ix_ticket_events_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("tickets.id"))
    seq: Mapped[int]
    occurred_at: Mapped[datetime]
    action: Mapped[Action] = mapped_column(enum_column_type(Action, "event_action"))
    from_state: Mapped[TicketState | None] = mapped_column(
        enum_column_type(TicketState, "event_from_state")
    )
    to_state: Mapped[TicketState] = mapped_column(enum_column_type(TicketState, "event_to_state"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_role: Mapped[Role] = mapped_column(enum_column_type(Role, "event_actor_role"))
    # The lead agency the step concerns (for a return: the agency that gave the ticket back),
    # so KPIs credit the agency of the time even after the ticket moved on.
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<TicketEvent {self.ticket_id}#{self.seq} {self.action.value}>"


class AppendOnlyViolation(RuntimeError):
    pass


@event.listens_for(TicketEvent, "before_update")
@event.listens_for(TicketEvent, "before_delete")
def _refuse_event_changes(_mapper: object, _connection: object, target: TicketEvent) -> None:
    raise AppendOnlyViolation(f"ticket events are append-only: {target!r}")


class TicketAlert(Base):
    """预警 / 超期 / 催办 / 通报 recorded by the deadline sweep, once per clock instance.

    Kept apart from ticket_events so a system alert never bumps the ticket's version (a person
    typing a reply must not get a conflict because the sweep passed). The unique key is the
    claim that makes each alert exactly-once, whatever the number of schedulers.
    """

    __tablename__ = "ticket_alerts"
    __table_args__ = (sa.UniqueConstraint("ticket_id", "kind", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    due_at: Mapped[datetime]  # the deadline the alert is about: a new deadline alerts anew
    recorded_at: Mapped[datetime]
