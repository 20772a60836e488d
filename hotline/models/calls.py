"""A call (来电) as received by either hotline: the facts every ticket refers back to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.domain.vocabulary import CallStatus, Channel, Hotline, Nature, Urgency
from hotline.models.base import Base, BigId, JSONType, enum_column_type
from hotline.models.directory import User


class Call(Base):
    __tablename__ = "calls"
    # The desk's live queue asks "which calls wait for a decision, oldest first?".
    __table_args__ = (
        sa.Index("ix_calls_status_received_at", "status", "received_at"),
        sa.Index("ix_calls_idempotency_key", "idempotency_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hotline: Mapped[Hotline] = mapped_column(enum_column_type(Hotline, "hotline"))
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel, "channel"))
    caller_number: Mapped[str | None] = mapped_column(sa.String(24), index=True)
    caller_name: Mapped[str | None] = mapped_column(sa.String(50))
    location_text: Mapped[str | None] = mapped_column(sa.String(200))
    district: Mapped[str | None] = mapped_column(sa.String(50))
    transcript: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(index=True)
    nature: Mapped[Nature] = mapped_column(enum_column_type(Nature, "nature"))
    urgency: Mapped[Urgency] = mapped_column(enum_column_type(Urgency, "urgency"))
    is_confidential: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime]
    status: Mapped[CallStatus] = mapped_column(
        enum_column_type(CallStatus, "call_status"),
        default=CallStatus.TRANSFERRED,
        server_default=CallStatus.TRANSFERRED.value,
    )
    # The classifier's reading and the rules' suggestion at intake (RoutingDecision and reading).
    routing: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Calls pushed by the other platform: which system, its own number for the call, and the
    # idempotency key (namespaced by its sender) with a hash of the request it stood for.
    # No foreign key: SQLite could only add one by rebuilding calls (transfers carry one).
    api_client_id: Mapped[int | None]
    external_id: Mapped[str | None] = mapped_column(sa.String(64))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200))
    request_hash: Mapped[str | None] = mapped_column(sa.String(64))

    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Call {self.id} {self.hotline.value}>"
