"""What reaches people: agency inbox notifications, and an outbox for other channels."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hotline.models.base import Base, BigId


class Notification(Base):
    """One message in an agency's inbox in the web UI (预警, 超期, 催办, 通报, 督办升级)."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_agency_unread", "agency_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    ticket_id: Mapped[int | None] = mapped_column(BigId, sa.ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    message: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """A notification still to be sent over another channel (log, e-mail, webhook).

    Delivery is claimed by moving ``next_attempt_at``; failures back off; a sent message keeps
    ``sent_at`` and leaves the index (``next_attempt_at`` NULL). Nothing here blocks the sweep.
    """

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_next_attempt_at", "next_attempt_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notification_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("notifications.id"))
    channel: Mapped[str] = mapped_column(sa.String(16))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime]
