"""Who is who: agencies (承办单位) and the people who log in."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.domain.vocabulary import AgencyKind, Role
from hotline.models.base import Base, enum_column_type


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    kind: Mapped[AgencyKind] = mapped_column(enum_column_type(AgencyKind, "agency_kind"))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    district: Mapped[str | None] = mapped_column(sa.String(50))
    contact_name: Mapped[str | None] = mapped_column(sa.String(50))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(24))
    # Where the e-mail channel sends this agency's 预警 / 催办 / 通报 (none: inbox only).
    email: Mapped[str | None] = mapped_column(sa.String(254))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime]

    parent: Mapped[Agency | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Agency]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<Agency {self.code} {self.name}>"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # Agency staff act for exactly one agency; the inbox and permissions hang on it.
        sa.CheckConstraint(
            "role <> 'agency_staff' OR agency_id IS NOT NULL", name="agency_staff_has_agency"
        ),
        sa.CheckConstraint("role <> 'system'", name="no_login_for_system"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(64))
    role: Mapped[Role] = mapped_column(enum_column_type(Role, "user_role"))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Bumped at log-out: sessions are signed cookies, so a copied cookie would otherwise stay
    # valid after log-out; the session id carries the epoch it was issued in.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime]

    agency: Mapped[Agency | None] = relationship()

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"
