"""What log-in protection and attachments need to remember."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.models.base import Base, BigId
from hotline.models.directory import User


class LoginFailure(Base):
    """One failed log-in. Kept in the database, not in a worker's memory, so every gunicorn
    worker sees the same count and a restart does not reset a brute-force attempt."""

    __tablename__ = "login_failures"
    __table_args__ = (
        sa.Index("ix_login_failures_username_failed_at", "username", "failed_at"),
        sa.Index("ix_login_failures_address_failed_at", "address", "failed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # As typed (lower-cased, cut to 64): an unknown name is throttled like a real one.
    username: Mapped[str] = mapped_column(sa.String(64))
    address: Mapped[str] = mapped_column(sa.String(45))
    failed_at: Mapped[datetime]


class Attachment(Base):
    """A file on a ticket (现场照片, 答复函). The bytes live in the database beside the event
    that added them, so an upload is committed or rolled back with its step and one backup
    holds everything."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("tickets.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]

    uploaded_by: Mapped[User | None] = relationship()
