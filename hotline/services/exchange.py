"""The exchange with the other platform (工单/警单双向流转): its systems' API keys, and the
status feedback they read back for the calls they pushed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.domain.errors import ValidationError
from hotline.domain.lifecycle import Action
from hotline.domain.text import clean_text
from hotline.domain.vocabulary import Hotline
from hotline.models import ApiClient, Call, Ticket, TicketEvent
from hotline.models.tickets import ticket_number
from hotline.services.context import Context

KEY_PREFIX = "hk_"
MAX_FEED_PAGE = 500

# The steps the other side hears about, in its words.
FEEDBACK_STATUS: dict[Action, str] = {
    Action.CREATE: "received",
    Action.SIGN_FOR: "signed",
    Action.REPLY: "replied",
    Action.ANSWER_DIRECTLY: "closed",
    Action.CLOSE: "closed",
    Action.APPROVE_RETURN: "returned",
}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_client(ctx: Context, *, name: str, hotline: Hotline | str) -> tuple[ApiClient, str]:
    """A new system and its key. The key is returned once and only its hash is kept."""
    clean = clean_text(name, "name", max_chars=64, single_line=True)
    if ctx.db.scalar(sa.select(ApiClient.id).where(ApiClient.name == clean)) is not None:
        raise ValidationError("name", f"接口系统 {clean!r} 已存在")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        name=clean,
        hotline=Hotline.parse(hotline, "hotline"),
        key_hash=hash_key(key),
        created_at=ctx.now,
    )
    ctx.db.add(client)
    ctx.db.flush()
    return client, key


def revoke_client(ctx: Context, name: str) -> ApiClient:
    client = ctx.db.scalar(sa.select(ApiClient).where(ApiClient.name == name))
    if client is None:
        raise ValidationError("name", f"没有名为 {name!r} 的接口系统")
    client.is_active = False
    ctx.db.flush()
    return client


def authenticate(db: Session, key: str | None) -> ApiClient | None:
    """The active system holding ``key``. Keys are long random tokens, so looking one up by
    its hash leaks nothing useful through timing."""
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    return db.scalar(
        sa.select(ApiClient).where(
            ApiClient.key_hash == hash_key(key), ApiClient.is_active.is_(True)
        )
    )


@dataclass(frozen=True)
class FeedbackItem:
    cursor: int
    call_id: int
    external_id: str | None
    ticket_id: int
    ticket_number: str
    status: str
    occurred_at: datetime
    note: str | None


def feedback(
    db: Session, client_id: int, *, after: int = 0, limit: int = 100
) -> list[FeedbackItem]:
    """Status changes of the tickets made from this system's calls, oldest first, after a
    cursor: the system stores the last cursor it read and asks again from there."""
    limit = max(1, min(limit, MAX_FEED_PAGE))
    rows = db.execute(
        sa.select(TicketEvent, Ticket.created_at, Call.id, Call.external_id)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .join(Call, Call.id == Ticket.call_id)
        .where(
            Call.api_client_id == client_id,
            TicketEvent.id > after,
            TicketEvent.action.in_(list(FEEDBACK_STATUS)),
        )
        .order_by(TicketEvent.id)
        .limit(limit)
    )
    return [
        FeedbackItem(
            cursor=event.id,
            call_id=call_id,
            external_id=external_id,
            ticket_id=event.ticket_id,
            ticket_number=ticket_number(created_at, event.ticket_id),
            status=FEEDBACK_STATUS[event.action],
            occurred_at=event.occurred_at,
            note=_public_note(event),
        )
        for event, created_at, call_id, external_id in rows
    ]


def _public_note(event: TicketEvent) -> str | None:
    """What the other side may read: the public reply, or the reason a return was approved."""
    payload = event.payload or {}
    for key in ("reply_text", "note"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
    return None
