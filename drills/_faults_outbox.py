"""The webhook channel down for an hour: the outbox must drain afterwards, nothing lost, nothing
sent twice, attempts bounded by the back-off.

In-process, on a FixedClock moved a minute at a time: the sweep records alerts for overdue
tickets (each alert one notification, one webhook outbox row), then ``deliver_outbox`` runs
every simulated minute exactly as the scheduler's job does, against a local HTTP server that
answers 500 for the first hour and 200 afterwards. No API load here: the outbox has no HTTP
side; the other drills run the scheduler's outbox job under load.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sqlalchemy as sa

from drills._faults_load import prepared_copy
from drills._faults_stack import Result, seed_due_tickets


class Webhook(BaseHTTPRequestHandler):
    failing = True
    received: Counter[str] = Counter()  # delivered bodies (answered 200), by content
    refused = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if type(self).failing:
            type(self).refused += 1
            self.send_response(500)
        else:
            type(self).received[body.decode()] += 1
            self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def outbox_outage(short: bool) -> Result:
    from hotline import create_app
    from hotline.domain.clock import FixedClock
    from hotline.extensions import db
    from hotline.jobs.outbox import backoff
    from hotline.jobs.runner import deliver_outbox, sweep_until_done
    from hotline.models import Notification, OutboxMessage

    result = Result("the webhook failing for an hour, then back")
    tickets = 40 if short else 400
    db_url, _ = prepared_copy("hotline_drill_faults_outbox")
    seed_due_tickets(db_url, tickets)
    Webhook.failing, Webhook.received, Webhook.refused = True, Counter(), 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        from drills._faults_load import utc_now

        clock = FixedClock(utc_now())
        app = create_app(
            {
                "DATABASE_URL": db_url,
                "SECRET_KEY": "drill",
                "CLOCK": clock,
                "NOTIFY_CHANNELS": ["webhook"],
                "NOTIFY_WEBHOOK_URL": f"http://127.0.0.1:{server.server_address[1]}/hook",
            }
        )
        sweep_until_done(app)
        minutes_failing, minute = 60, 0
        drained_at = None
        while minute < minutes_failing + 180:
            Webhook.failing = minute < minutes_failing
            deliver_outbox(app)
            with app.app_context():
                pending = db.session.scalar(
                    sa.select(sa.func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.sent_at.is_(None))
                )
            if not Webhook.failing and pending == 0:
                drained_at = minute
                break
            minute += 1
            clock.advance(timedelta(minutes=1))
        with app.app_context():
            messages = db.session.scalars(sa.select(OutboxMessage)).all()
            notifications = db.session.scalars(sa.select(Notification)).all()
            expected = Counter(
                json.dumps(
                    {
                        "agency_id": n.agency_id,
                        "ticket_id": n.ticket_id,
                        "kind": n.kind,
                        "message": n.message,
                        "created_at": n.created_at.isoformat(),
                    },
                    ensure_ascii=False,
                )
                for n in notifications
            )
    finally:
        server.shutdown()
    attempts = Counter(m.attempts for m in messages)
    # While failing from minute 0, attempts fall at 0, 1, 3, 7, 15, 31 (then 63): the back-off.
    schedule, at, n = [], 0, 0
    while at < minutes_failing:
        schedule.append(at)
        n += 1
        at += int(backoff(n).total_seconds() // 60)
    bound = len(schedule) + 1
    result.say(
        f"{len(notifications)} notifications from the sweep of {tickets} overdue tickets, "
        f"{len(messages)} webhook outbox rows; the webhook answered 500 for "
        f"{minutes_failing} simulated minutes ({Webhook.refused} refused deliveries), then 200"
    )
    drain = f"minute {drained_at} ({drained_at - minutes_failing} min after recovery)"
    result.say(f"outbox drained at {drain if drained_at else 'never'}")
    result.say(f"attempts per message: {dict(sorted(attempts.items()))}; bound {bound}")
    result.require(drained_at is not None, "the outbox drained after the webhook came back")
    result.require(
        all(m.sent_at is not None for m in messages), "every outbox row marked sent (none dropped)"
    )
    result.require(
        Webhook.received == expected and sum(Webhook.received.values()) == len(messages),
        f"the webhook received every notification exactly once "
        f"({sum(Webhook.received.values())} of {len(messages)})",
    )
    result.require(max(attempts) <= bound, f"attempts bounded by the back-off (≤ {bound})")
    result.say(
        "the back-off never gives up: 1, 2, 4 … 60 minutes for ever; only Undeliverable (an "
        "agency without an e-mail address) stops retrying, and that row stays with its error"
    )
    from drills.common import verdict

    audit = verdict(db_url, set())
    for line in audit.lines:
        result.say(f"audit: {line}")
    result.ok = result.ok and audit.ok
    return result
