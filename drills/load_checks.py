"""The load drill's verdict for one level: the store audit, compared with what clients were told.

Clients were told: these calls were accepted (with these tickets), these sign-fors and replies
succeeded. The store must hold each of them exactly once. A step the store holds but no client
saw succeed is possible only for a request whose answer never arrived (a timeout); there may be
no more of those than the requests that went unanswered.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from drills.common import verdict
from hotline.domain.lifecycle import Action
from hotline.models import Call, Ticket, TicketEvent
from hotline.models.engine import make_engine

ACTIONS = {"sign_for": Action.SIGN_FOR, "reply": Action.REPLY}


@dataclass
class Consistency:
    ok: bool
    accepted: int
    done: dict[str, int]
    lines: list[str] = field(default_factory=list)
    stored: int = 0  # the level's calls in the store, told to a client or not


def check_level(db_url: str, prefix: str, record: dict[str, Any]) -> Consistency:
    accepted = {int(call_id): ticket for call_id, ticket in record["accepted"].items()}
    # A call the API queued for review (202, no ticket) must have none; the rest exactly one.
    ticketed = {call_id for call_id, ticket in accepted.items() if ticket is not None}
    audit = verdict(db_url, ticketed, set(accepted) - ticketed)
    lines, ok = list(audit.lines), audit.ok
    unanswered = {name: n for name, kind, n in record["errors"] if not kind[:1].isdigit()}
    engine = make_engine(db_url)
    try:
        with sa.orm.Session(engine) as session:
            ok &= _calls(session, prefix, accepted, len(record["unknown_keys"]), lines)
            stored = session.scalar(sa.select(sa.func.count()).where(_drill_calls(prefix))) or 0
            for key, action in ACTIONS.items():
                told = record["done"][key]
                ok &= _steps(
                    session,
                    prefix,
                    key,
                    action,
                    told,
                    unanswered.get(f"POST /tickets/<id>/actions/{key}", 0)
                    + record.get("pending_actions", {}).get(key, 0),
                    lines,
                )
    finally:
        engine.dispose()
    done = {key: len(record["done"][key]) for key in ACTIONS}
    return Consistency(ok, len(accepted), done, lines, stored)


def _drill_calls(prefix: str) -> sa.ColumnElement[bool]:
    # api:<client id>:<the client's key>; the prefix is unique per level and run.
    return Call.idempotency_key.like(f"api:%:{prefix}-%")


def _calls(
    session: sa.orm.Session,
    prefix: str,
    accepted: dict[int, int | None],
    unknown: int,
    lines: list[str],
) -> bool:
    rows = session.execute(
        sa.select(Call.id, Call.idempotency_key, sa.func.count(Ticket.id))
        .outerjoin(Ticket, Ticket.call_id == Call.id)
        .where(_drill_calls(prefix))
        .group_by(Call.id, Call.idempotency_key)
    ).all()
    keys = Counter(key for _, key, _ in rows)
    duplicate_keys = sum(1 for n in keys.values() if n > 1)
    without_one = [c for c, _, n in rows if n != _tickets_expected(accepted, c, n)]
    stored = {call_id for call_id, _, _ in rows}
    not_told = stored - set(accepted)
    tickets = session.execute(
        sa.select(Ticket.call_id, Ticket.id).where(Ticket.call_id.in_(list(accepted) or [0]))
    ).all()
    wrong_ticket = [
        call_id for call_id, ticket_id in tickets if accepted.get(call_id) not in (None, ticket_id)
    ]
    lines.append(
        f"calls of this level in the store: {len(rows)}, accepted by the API: {len(accepted)}, "
        f"stored but never confirmed to a client: {len(not_told)} (clients gave up on {unknown}), "
        f"with the wrong number of tickets (one; none if queued for review): "
        f"{len(without_one)}, repeated keys: {duplicate_keys}, "
        f"answer named another ticket: {len(wrong_ticket)}"
    )
    return not without_one and not duplicate_keys and not wrong_ticket and len(not_told) <= unknown


def _steps(
    session: sa.orm.Session,
    prefix: str,
    key: str,
    action: Action,
    told: list[int],
    unanswered: int,
    lines: list[str],
) -> bool:
    per_ticket = Counter(
        session.scalars(
            sa.select(TicketEvent.ticket_id)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .join(Call, Call.id == Ticket.call_id)
            .where(_drill_calls(prefix), TicketEvent.action == action)
        )
    )
    twice_told = sum(1 for n in Counter(told).values() if n > 1)
    lost = set(told) - set(per_ticket)
    repeated = sum(1 for n in per_ticket.values() if n > 1)
    unconfirmed = set(per_ticket) - set(told)
    lines.append(
        f"{key}: {len(told)} confirmed to clients, {len(per_ticket)} tickets with the event; "
        f"lost: {len(lost)}, twice: {repeated + twice_told}, in the store unconfirmed: "
        f"{len(unconfirmed)} (unanswered requests: {unanswered})"
    )
    return not lost and not repeated and not twice_told and len(unconfirmed) <= unanswered


def _tickets_expected(accepted: dict[int, int | None], call_id: int, found: int) -> int:
    """One ticket, or none for a call queued for review. A call no client heard about may be
    either, but never more than one."""
    if call_id not in accepted:
        return min(found, 1)
    return 0 if accepted[call_id] is None else 1
