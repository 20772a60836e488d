"""Alerts reach agencies: inbox notifications, and an outbox that retries and never loses."""

from __future__ import annotations

import smtplib
from datetime import datetime, timedelta

import sqlalchemy as sa

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import CHINA_TZ
from hotline.jobs.outbox import EmailSender, SmtpSettings, backoff, deliver
from hotline.jobs.sweep import tick
from hotline.models import Notification, OutboxMessage

CN = WorkingCalendar.chinese()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


class Flaky:
    """A channel that is down until told otherwise, counting what it delivered."""

    def __init__(self) -> None:
        self.up = False
        self.delivered: list[str] = []

    def send(self, notification: Notification) -> None:
        if not self.up:
            raise ConnectionError("channel down")
        self.delivered.append(notification.message)


def test_every_alert_reaches_the_lead_agency_inbox_and_outbox(city, db) -> None:
    ticket = city.dispatched()
    db.commit()
    tick(db, local(2026, 3, 13, 10), CN, channels=("log", "webhook"))
    notes = db.scalars(sa.select(Notification).order_by(Notification.id)).all()
    assert [n.kind for n in notes] == ["warning", "overdue", "chase"]
    assert {n.agency_id for n in notes} == {city.housing.id}
    assert ticket.number in notes[0].message and "签收时限" in notes[0].message
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 6


def test_criticism_escalates_to_the_supervising_agency(city, db) -> None:
    city.housing.parent_id = city.street.id
    ticket = city.dispatched()
    db.commit()
    tick(db, local(2026, 3, 19, 9, 5), CN)
    escalation = db.scalars(sa.select(Notification).where(Notification.kind == "escalation")).one()
    assert escalation.agency_id == city.street.id and ticket.number in escalation.message


def test_a_channel_down_for_an_hour_drains_afterwards_and_loses_nothing(city, db) -> None:
    for _ in range(3):
        city.dispatched()
    db.commit()
    start = local(2026, 3, 13, 10)
    tick(db, start, CN)  # 3 tickets x (warning, overdue, chase) = 9 messages
    channel = Flaky()
    now = start
    while now < start + timedelta(hours=1):
        report = deliver(db, now, {"log": channel})
        assert report.sent == 0
        now += timedelta(minutes=1)
    failed = db.scalars(sa.select(OutboxMessage)).all()
    assert all(m.sent_at is None and m.attempts >= 5 for m in failed)
    assert all("channel down" in m.last_error for m in failed)
    channel.up = True
    later = now + timedelta(hours=1)
    assert deliver(db, later, {"log": channel}).sent == 9
    assert len(channel.delivered) == 9
    assert db.scalar(sa.select(sa.func.count()).where(OutboxMessage.sent_at.is_(None))) == 0
    assert deliver(db, later + timedelta(hours=2), {"log": channel}).sent == 0


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(30) == timedelta(hours=1)


def test_an_unconfigured_channel_is_recorded_and_retried_not_fatal(city, db) -> None:
    city.dispatched()
    db.commit()
    tick(db, local(2026, 3, 12, 0, 1), CN, channels=("sms",))
    report = deliver(db, local(2026, 3, 12, 0, 2), {})
    assert report.failed == 2 and report.sent == 0
    assert all("sms" in m.last_error for m in db.scalars(sa.select(OutboxMessage)))


def test_two_deliverers_send_each_message_once(city, db, session_factory) -> None:
    city.dispatched()
    db.commit()
    tick(db, local(2026, 3, 13, 10), CN)
    channel = Flaky()
    channel.up = True
    other = session_factory()
    moment = local(2026, 3, 13, 10, 1)
    first = deliver(db, moment, {"log": channel})
    second = deliver(other, moment, {"log": channel})
    other.close()
    assert first.sent + second.sent == 3 and len(channel.delivered) == 3


def test_agency_staff_see_their_unread_alerts_on_the_dashboard(client, city, db) -> None:
    from tests.factories import PASSWORD

    city.dispatched()
    db.commit()
    tick(db, local(2026, 3, 12, 0, 1), CN)
    client.post("/login", data={"username": "hstaff", "password": PASSWORD})
    page = client.get("/").get_data(as_text=True)
    assert "待阅通知" in page and 'data-kind="overdue"' in page
    client.post("/logout")
    client.post("/login", data={"username": "ustaff", "password": PASSWORD})
    assert "待阅通知" not in client.get("/").get_data(as_text=True)


class FakeSMTP:
    """Stands in for smtplib.SMTP: records what a real server would have been told."""

    sent: list[tuple[str, str, str]] = []
    calls: list[str] = []
    fail = False

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.calls.append(f"connect {host}:{port}")

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.calls.append("quit")

    def starttls(self) -> None:
        self.calls.append("starttls")

    def login(self, user: str, password: str) -> None:
        self.calls.append(f"login {user}")

    def send_message(self, mail) -> None:
        if FakeSMTP.fail:
            raise smtplib.SMTPServerDisconnected("connection lost")
        self.sent.append((mail["To"], mail["Subject"], mail.get_content().strip()))


def test_email_goes_to_the_agency_address_and_failures_are_retried(city, db) -> None:
    FakeSMTP.sent, FakeSMTP.calls, FakeSMTP.fail = [], [], True
    city.housing.email = "zhujian@example.gov.cn"
    ticket = city.dispatched()
    db.commit()
    tick(db, local(2026, 3, 11, 22), CN, channels=("email",))  # the warning
    sender = EmailSender(
        SmtpSettings("smtp.example", 587, "hotline", "secret", starttls=True), smtp=FakeSMTP
    )
    failed = deliver(db, local(2026, 3, 11, 22), {"email": sender})
    assert failed.failed == 1 and FakeSMTP.sent == []
    FakeSMTP.fail = False
    later = deliver(db, local(2026, 3, 11, 22, 1), {"email": sender})
    assert later.sent == 1
    ((to, subject, body),) = FakeSMTP.sent
    assert to == "zhujian@example.gov.cn" and "工单提醒" in subject and ticket.number in body
    assert FakeSMTP.calls[:3] == ["connect smtp.example:587", "starttls", "login hotline"]


def test_an_agency_without_an_address_keeps_the_inbox_and_leaves_the_queue(city, db) -> None:
    city.dispatched()
    db.commit()
    tick(db, local(2026, 3, 11, 22), CN, channels=("email",))
    report = deliver(db, local(2026, 3, 11, 22), {"email": EmailSender(SmtpSettings("x"))})
    assert report.undeliverable == 1 and report.failed == 0
    message = db.scalars(sa.select(OutboxMessage)).one()
    assert message.next_attempt_at is None and message.sent_at is None
    assert "未登记电子邮箱" in message.last_error
    assert db.scalar(sa.select(sa.func.count()).select_from(Notification)) == 1
