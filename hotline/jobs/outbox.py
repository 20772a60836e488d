"""Delivering the outbox: claimed like the sweep, retried with back-off, never blocking it.

A message is claimed by moving its ``next_attempt_at`` forward by a lease (a second
scheduler's UPDATE matches nothing); it is sent outside any transaction; then it is marked
sent, or its next attempt is put off: 1, 2, 4 … minutes, at most an hour. A channel that is
down for an hour therefore drains within minutes of coming back, and nothing is lost.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from hotline.models import Agency, Notification, OutboxMessage

LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)
BATCH = 200
log = logging.getLogger("hotline.notify")


class Sender(Protocol):
    def send(self, notification: Notification) -> None:
        """Deliver or raise; any exception means "try again later", except Undeliverable."""
        ...


class Undeliverable(Exception):
    """Retrying cannot help (e.g. the agency has no e-mail address): give up on this channel.
    The notification itself stays in the agency's web inbox, so nothing is lost."""


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


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "hotline@localhost"
    timeout: float = 10.0


class EmailSender:
    """Mails the notification to the agency's address through the configured SMTP server."""

    def __init__(
        self, settings: SmtpSettings, smtp: Callable[..., smtplib.SMTP] = smtplib.SMTP
    ) -> None:
        self.settings, self.smtp = settings, smtp

    def send(self, notification: Notification) -> None:
        session = object_session(notification)
        agency = session.get(Agency, notification.agency_id) if session is not None else None
        if agency is None or not agency.email:
            raise Undeliverable("该单位未登记电子邮箱")
        mail = EmailMessage()
        mail["From"] = self.settings.sender
        mail["To"] = agency.email
        mail["Subject"] = f"【12345工单提醒】{notification.message[:40]}"
        mail.set_content(notification.message)
        s = self.settings
        with self.smtp(s.host, s.port, timeout=s.timeout) as server:
            if s.starttls:
                server.starttls()
            if s.username:
                server.login(s.username, s.password or "")
            server.send_message(mail)


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(0, attempts - 1)), MAX_BACKOFF)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    undeliverable: int = 0


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
        except Undeliverable as exc:
            message.attempts += 1
            message.last_error = f"未发送：{exc}"[:500]
            message.next_attempt_at = None  # leaves the queue; the inbox still has it
            report.undeliverable += 1
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
