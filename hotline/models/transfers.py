"""Transfers (转接): which destination a call went to, who decided, and the systems that push
calls in through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.domain.vocabulary import Hotline
from hotline.models.base import Base, BigId, JSONType, enum_column_type
from hotline.models.calls import Call
from hotline.models.tickets import Ticket


class Transfer(Base):
    """The one transfer of a call: unique per call, so a call can never get a second ticket,
    however often the button is pressed or the request retried."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("calls.id"), unique=True)
    ticket_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("tickets.id"), index=True)
    destination: Mapped[str] = mapped_column(sa.String(48))
    # What the classifier and the rules suggested (RoutingDecision.to_dict plus the reading).
    suggested: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    suggested_destination: Mapped[str | None] = mapped_column(sa.String(48))
    overridden: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    override_reason: Mapped[str | None] = mapped_column(sa.Text)
    # The call taker's corrected reading, when given: the learning loop's label.
    corrected_label: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    api_client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_clients.id"))
    created_at: Mapped[datetime]

    call: Mapped[Call] = relationship()
    ticket: Mapped[Ticket] = relationship()


class ApiClient(Base):
    """Another platform's system (the other hotline's 接处警 / 工单 system) allowed to push calls.

    Only a SHA-256 of the key is stored; the key itself is shown once, when it is made.
    """

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The hotline the system belongs to: calls it pushes are that hotline's calls.
    hotline: Mapped[Hotline] = mapped_column(enum_column_type(Hotline, "api_client_hotline"))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"<ApiClient {self.name} {self.hotline.value}>"
