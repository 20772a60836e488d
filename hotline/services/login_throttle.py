"""Log-in throttling: too many failures lock a username, or an address, for a while.

Failures are rows in ``login_failures`` so every gunicorn worker counts the same attempts and a
restart forgives nothing. The window slides: a name with ``per_user`` failures in the last
``window`` is locked until the oldest of those failures leaves the window. Unknown names are
counted exactly like real ones, so a lock says nothing about whether an account exists. A
refused (locked) attempt is not a failure: the password is never checked, and a locked-out
person who keeps trying does not push the lock further away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.models import LoginFailure

USERNAME_CHARS = 64
ADDRESS_CHARS = 45
# Rows older than this serve no lock any more; they are removed on successful log-ins.
KEEP_FOR = timedelta(days=1)


@dataclass(frozen=True)
class ThrottleSettings:
    window: timedelta = timedelta(minutes=15)
    per_user: int = 5
    per_address: int = 30

    def __post_init__(self) -> None:
        if self.window <= timedelta(0) or self.per_user < 1 or self.per_address < 1:
            raise ValueError("log-in throttling needs a positive window and limits")


@dataclass(frozen=True)
class Lock:
    """Why and until when log-ins are refused."""

    scope: str  # "username" or "address"
    until: datetime

    def minutes_left(self, now: datetime) -> int:
        """Whole minutes to wait, rounded up, never 0 while locked."""
        return max(1, math.ceil((self.until - now).total_seconds() / 60))

    def seconds_left(self, now: datetime) -> int:
        return max(1, math.ceil((self.until - now).total_seconds()))


def key_of(username: str | None) -> str:
    """The name as throttled: usernames are lower case, so "Boss" and "boss" share a count."""
    return (username or "").strip().lower()[:USERNAME_CHARS]


def address_of(address: str | None) -> str:
    return (address or "unknown")[:ADDRESS_CHARS]


def unlock_time(recent: list[datetime], limit: int, window: timedelta) -> datetime | None:
    """When a key with failures at ``recent`` (newest first, already inside the window) drops
    below ``limit``: the ``limit``-th newest failure leaving the window. None: not locked."""
    if len(recent) < limit:
        return None
    return recent[limit - 1] + window


def check(
    db: Session, username: str, address: str, now: datetime, settings: ThrottleSettings
) -> Lock | None:
    """The lock that refuses this attempt, if any (the one that lasts longer when both do)."""
    since = now - settings.window
    locks = []
    for scope, column, value, limit in (
        ("username", LoginFailure.username, key_of(username), settings.per_user),
        ("address", LoginFailure.address, address_of(address), settings.per_address),
    ):
        # Only the `limit` newest rows matter, read through the (key, failed_at) index.
        recent = list(
            db.scalars(
                sa.select(LoginFailure.failed_at)
                .where(column == value, LoginFailure.failed_at > since)
                .order_by(LoginFailure.failed_at.desc())
                .limit(limit)
            )
        )
        until = unlock_time(recent, limit, settings.window)
        if until is not None and until > now:
            locks.append(Lock(scope, until))
    return max(locks, key=lambda lock: lock.until) if locks else None


def record_failure(db: Session, username: str, address: str, now: datetime) -> None:
    db.add(LoginFailure(username=key_of(username), address=address_of(address), failed_at=now))
    db.flush()


def record_success(db: Session, username: str, now: datetime) -> None:
    """Forget this name's failures (the person got in, the count starts again) and, while at
    it, every failure older than ``KEEP_FOR``. Cleaning here rather than on failures means an
    attacker cannot make each of his attempts pay for a table scan; successful log-ins happen
    every shift, so the table never holds much more than a day. The failures themselves stay
    in the application log."""
    db.execute(sa.delete(LoginFailure).where(LoginFailure.username == key_of(username)))
    db.execute(sa.delete(LoginFailure).where(LoginFailure.failed_at < now - KEEP_FOR))
    db.flush()
