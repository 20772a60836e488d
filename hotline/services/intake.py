"""Intake (受理): record a call and open a ticket for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hotline.domain.clock import ensure_aware
from hotline.domain.errors import RoleNotAllowed, ValidationError
from hotline.domain.lifecycle import PERMISSIONS, Action, TicketState
from hotline.domain.text import MAX_TRANSCRIPT_CHARS, clean_phone, clean_text
from hotline.domain.vocabulary import Channel, Direction, Hotline, Nature, Urgency
from hotline.models import Call, Ticket, TicketEvent
from hotline.services.context import Context

# Clocks on telephony servers drift; a call "from the future" beyond this is a data error.
MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class CallInput:
    hotline: Hotline | str
    transcript: str
    received_at: datetime | None = None
    channel: Channel | str = Channel.PHONE
    nature: Nature | str = Nature.HELP
    urgency: Urgency | str = Urgency.NORMAL
    caller_number: str | None = None
    caller_name: str | None = None
    location_text: str | None = None
    district: str | None = None
    is_confidential: bool = False


def register_call(ctx: Context, data: CallInput, *, flush: bool = True) -> Call:
    received_at = ctx.now if data.received_at is None else _aware(data.received_at)
    if received_at > ctx.now + MAX_CLOCK_SKEW:
        raise ValidationError("received_at", "来电时间晚于当前时间")
    if not isinstance(data.is_confidential, bool):
        raise ValidationError("is_confidential", "应为是/否")
    call = Call(
        hotline=Hotline.parse(data.hotline, "hotline"),
        channel=Channel.parse(data.channel, "channel"),
        nature=Nature.parse(data.nature, "nature"),
        urgency=Urgency.parse(data.urgency, "urgency"),
        transcript=clean_text(data.transcript, "transcript", max_chars=MAX_TRANSCRIPT_CHARS),
        caller_number=clean_phone(data.caller_number),
        caller_name=_line(data.caller_name, "caller_name", 50),
        location_text=_line(data.location_text, "location_text", 200),
        district=_line(data.district, "district", 50),
        is_confidential=data.is_confidential,
        received_at=received_at,
        created_by_id=ctx.actor.user_id,
        created_at=ctx.now,
    )
    ctx.db.add(call)
    if flush:
        ctx.db.flush()
    return call


def open_ticket(
    ctx: Context,
    call: Call,
    *,
    direction: Direction | str = Direction.INTERNAL,
    summary: str | None = None,
    category_level1: str | None = None,
    category_level2: str | None = None,
    category_level3: str | None = None,
    priority: Urgency | str | None = None,
) -> Ticket:
    """A new ticket in 已受理, with its first event. Its priority defaults to the call's urgency."""
    state = TicketState.RECEIVED
    # CREATE has no from-state, so only the role half of the lifecycle rules applies.
    if ctx.actor.role not in PERMISSIONS[Action.CREATE]:
        raise RoleNotAllowed(f"{ctx.actor.role.label}无权受理来电", action=Action.CREATE.value)
    summary_text = summary if summary is not None else _default_summary(call.transcript)
    ticket = Ticket(
        call=call,
        direction=Direction.parse(direction, "direction"),
        source_hotline=call.hotline,
        summary=clean_text(summary_text, "summary", max_chars=200, single_line=True),
        category_level1=_line(category_level1, "category_level1", 32),
        category_level2=_line(category_level2, "category_level2", 64),
        category_level3=_line(category_level3, "category_level3", 64),
        district=call.district,
        priority_rank=Urgency.parse(priority or call.urgency, "priority").rank,
        state=state,
        is_open=state.is_open,
        created_at=ctx.now,
        updated_at=ctx.now,
        version=1,
    )
    ctx.db.add(ticket)
    ctx.db.flush()
    ctx.db.add(
        TicketEvent(
            ticket_id=ticket.id,
            seq=1,
            occurred_at=ctx.now,
            action=Action.CREATE,
            from_state=None,
            to_state=state,
            actor_id=ctx.actor.user_id,
            actor_role=ctx.actor.role,
            payload={"call_id": call.id, "direction": ticket.direction.value},
        )
    )
    ctx.db.flush()
    return ticket


def _default_summary(transcript: str) -> str:
    first_line = transcript.strip().splitlines()[0] if transcript.strip() else ""
    return first_line[:60] + ("…" if len(first_line) > 60 else "")


def _line(value: str | None, field: str, max_chars: int) -> str | None:
    return clean_text(value, field, max_chars=max_chars, required=False, single_line=True)


def _aware(value: datetime) -> datetime:
    try:
        return ensure_aware(value)
    except ValueError as exc:
        raise ValidationError("received_at", "时间必须带时区") from exc
