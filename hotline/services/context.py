"""What every use case needs to know: the session, who acts, and what time it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from hotline.domain.calendar import WorkingCalendar, default_calendar
from hotline.domain.clock import ensure_aware
from hotline.domain.deadlines import default_policies
from hotline.domain.policies import PolicySet
from hotline.domain.vocabulary import Role
from hotline.models import User


@dataclass(frozen=True)
class Actor:
    role: Role
    user_id: int | None = None
    agency_id: int | None = None
    name: str = "系统"

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(
            role=user.role, user_id=user.id, agency_id=user.agency_id, name=user.display_name
        )

    @classmethod
    def system(cls, name: str) -> Actor:
        """The platform acting on its own, named for the timeline (e.g. an API client)."""
        return cls(role=Role.SYSTEM, name=name)


SYSTEM = Actor(role=Role.SYSTEM)


@dataclass(frozen=True)
class Context:
    db: Session
    actor: Actor
    now: datetime
    calendar: WorkingCalendar = field(default_factory=default_calendar)
    policies: PolicySet = field(default_factory=default_policies)

    def __post_init__(self) -> None:
        object.__setattr__(self, "now", ensure_aware(self.now))

    @property
    def warning_share(self) -> float:
        return self.policies.warning_share
