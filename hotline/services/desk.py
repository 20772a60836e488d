"""What the call-taker desk reads: the live queue, a caller's history, and where calls can go."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from hotline.domain.vocabulary import CallStatus
from hotline.models import Agency, Call, Ticket
from hotline.rules.engine import DESTINATION_LABELS
from hotline.rules.schema import RuleSet
from hotline.services.context import Context

QUEUE_LIMIT = 50
HISTORY_LIMIT = 5
# The lines and generic 12345 dispatch, before the agencies, in the order people expect.
LINES = ("110", "119", "120", "122", "12345")


@dataclass(frozen=True)
class CallerHistory:
    recent_calls: list[Call]
    open_tickets: list[Ticket]


def queue(ctx: Context, *, limit: int = QUEUE_LIMIT) -> list[Call]:
    """Calls waiting for a person to decide, oldest first: the desk works them in order."""
    return list(
        ctx.db.scalars(
            sa.select(Call)
            .where(Call.status == CallStatus.QUEUED)
            .order_by(Call.received_at, Call.id)
            .limit(limit)
        )
    )


def caller_history(ctx: Context, number: str | None, *, exclude_call: int | None = None):
    """The same number's recent calls and its still-open tickets (repeat callers, 重复来电)."""
    if not number:
        return CallerHistory([], [])
    calls = list(
        ctx.db.scalars(
            sa.select(Call)
            .where(Call.caller_number == number, Call.id != (exclude_call or 0))
            .order_by(Call.received_at.desc())
            .limit(HISTORY_LIMIT)
        )
    )
    open_tickets = list(
        ctx.db.scalars(
            sa.select(Ticket)
            .join(Call, Call.id == Ticket.call_id)
            .where(Call.caller_number == number, Ticket.is_open.is_(True))
            .order_by(Ticket.created_at.desc())
            .limit(HISTORY_LIMIT)
        )
    )
    return CallerHistory(calls, open_tickets)


def destinations(ctx: Context, rules: RuleSet) -> list[tuple[str, str]]:
    """Every destination a call taker may choose, with the name people know it by."""
    options = [(line, DESTINATION_LABELS[line]) for line in LINES]
    lead_of_line = set(rules.lines.values())
    agencies = ctx.db.scalars(
        sa.select(Agency).where(Agency.is_active.is_(True)).order_by(Agency.code)
    )
    options += [
        (f"12345:{a.code}", f"12345 → {a.name}") for a in agencies if a.code not in lead_of_line
    ]
    return options


def destination_label(ctx: Context, destination: str | None) -> str:
    if not destination:
        return ""
    if destination in DESTINATION_LABELS:
        return DESTINATION_LABELS[destination]
    code = destination.removeprefix("12345:")
    name = ctx.db.scalar(sa.select(Agency.name).where(Agency.code == code))
    return f"12345 → {name or code}"
