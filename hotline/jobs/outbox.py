"""Delivering the outbox: claimed like the sweep, retried with back-off, never blocking it.

A message is claimed by moving its ``next_attempt_at`` forward by a lease (a second
scheduler's UPDATE matches nothing); it is sent outside any transaction; then it is marked
sent, or its next attempt is put off: 1, 2, 4 … minutes, at most an hour. A channel that is
down for an hour therefore drains within minutes of coming back, and nothing is lost.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.models import Notification, OutboxMessage

LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)
BATCH = 200
log = logging.getLogger("hotline.notify")


class Sender(Protocol):
    def send(self, notification: Notification) -> None:
        """Deliver or raise; any exception means "try again later"."""
        ...


class LogSender:
    def send(self, notification: Notification) -> None:
        log.info("agency %s: %s", notification.agency_id, notification.message)


class WebhookSender:
    """POSTs the notification as JSON; anything but a 2xx answer is a failure."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url, self.timeout = url, timeout

    def send(self, notification: Notification) -> None:
        body = json.dumps(
            {
                "agency_id": notification.agency_id,
                "ticket_id": notification.ticket_id,
                "kind": notification.kind,
                "message": notification.message,
                "created_at": notification.created_at.isoformat(),
            },
            ensure_ascii=False,
        ).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            if not 200 <= response.status < 300:
                raise RuntimeError(f"webhook answered {response.status}")


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), MAX_BACKOFF)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0


def deliver(db: Session, now: datetime, senders: Mapping[str, Sender]) -> DeliveryReport:
    report = DeliveryReport()
    due = db.execute(
        sa.select(OutboxMessage.id, OutboxMessage.next_attempt_at)
        .where(OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(BATCH)
    ).all()
    db.rollback()
    for message_id, seen in due:
        claimed = db.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.next_attempt_at == seen)
            .values(next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.commit()
        if claimed != 1:
            report.skipped += 1
            continue
        message = db.get(OutboxMessage, message_id, populate_existing=True)
        notification = db.get(Notification, message.notification_id)
        assert message is not None and notification is not None
        sender = senders.get(message.channel)
        try:
            if sender is None:
                raise LookupError(f"没有配置发送渠道 {message.channel!r}")
            sender.send(notification)
        except Exception as exc:  # a sender failing in any way is retried, never fatal
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            message.next_attempt_at = now + backoff(message.attempts)
            report.failed += 1
        else:
            message.attempts += 1
            message.sent_at = now
            message.next_attempt_at = None
            message.last_error = None
            report.sent += 1
        db.commit()
    return report
