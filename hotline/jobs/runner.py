"""The scheduler process: `hotline scheduler`. Run exactly one per deployment, never inside
gunicorn workers (APScheduler's job store cannot be shared between processes); a second copy
by mistake is harmless because every tick claims its work."""

from __future__ import annotations

import logging
from datetime import date

from flask import Flask

from hotline.jobs.kpi import freeze_pending_days
from hotline.jobs.outbox import (
    DeliveryReport,
    EmailSender,
    LogSender,
    Sender,
    SmtpSettings,
    WebhookSender,
    deliver,
)
from hotline.jobs.sweep import BATCH, TickReport, tick

log = logging.getLogger("hotline.scheduler")


def sweep_until_done(app: Flask) -> TickReport:
    """Ticks until fewer than a batch of tickets were due (a backlog drains in one run)."""
    from hotline.extensions import db

    total = TickReport()
    with app.app_context():
        while True:
            report = tick(
                db.session,
                app.extensions["hotline.clock"].now(),
                app.extensions["hotline.calendar"],
                app.extensions["hotline.policies"],
                tuple(app.config["NOTIFY_CHANNELS"]),
            )
            total.looked_at += report.looked_at
            total.claimed += report.claimed
            total.deferred += report.deferred
            total.failed += report.failed
            total.alerts.update(report.alerts)
            # A full batch means more may be due; a batch in which nothing could be claimed
            # (all deferred or failing) would repeat itself forever, so wait for the next run.
            if report.looked_at < BATCH or report.claimed == 0:
                break
    if total.claimed:
        log.info("sweep: %s", dict(total.alerts))
    return total


def senders(app: Flask) -> dict[str, Sender]:
    configured: dict[str, Sender] = {"log": LogSender()}
    if app.config.get("NOTIFY_WEBHOOK_URL"):
        configured["webhook"] = WebhookSender(app.config["NOTIFY_WEBHOOK_URL"])
    if app.config.get("SMTP_HOST"):
        configured["email"] = EmailSender(
            SmtpSettings(
                host=app.config["SMTP_HOST"],
                port=int(app.config["SMTP_PORT"]),
                username=app.config.get("SMTP_USERNAME"),
                password=app.config.get("SMTP_PASSWORD"),
                starttls=str(app.config.get("SMTP_STARTTLS")).lower() in ("1", "true", "yes"),
                sender=app.config["SMTP_FROM"],
            )
        )
    return configured


def deliver_outbox(app: Flask) -> DeliveryReport:
    from hotline.extensions import db

    with app.app_context():
        report = deliver(db.session, app.extensions["hotline.clock"].now(), senders(app))
    if report.failed:
        log.warning("outbox: %s sent, %s failed (will retry)", report.sent, report.failed)
    return report


def freeze_kpis(app: Flask) -> list[date]:
    from hotline.extensions import db

    with app.app_context():
        return freeze_pending_days(db.session, app.extensions["hotline.clock"].now())


def run_forever(app: Flask, interval_seconds: int) -> None:
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="Asia/Shanghai")
    # max_instances=1 + coalesce: a slow sweep is never run twice at once nor replayed in bulk.
    scheduler.add_job(
        sweep_until_done,
        "interval",
        args=[app],
        seconds=interval_seconds,
        id="deadline-sweep",
        max_instances=1,
        coalesce=True,
        next_run_time=None,
    )
    scheduler.add_job(sweep_until_done, args=[app], id="first-sweep")  # at start-up
    # Just after midnight Beijing time, and once at start-up to catch up on missed days.
    scheduler.add_job(
        freeze_kpis, "cron", args=[app], hour=0, minute=15, id="kpi-snapshot", coalesce=True
    )
    scheduler.add_job(freeze_kpis, args=[app], id="first-kpi-snapshot")
    # Sending runs as its own job, so a slow or failing channel never delays the sweep.
    scheduler.add_job(
        deliver_outbox,
        "interval",
        args=[app],
        seconds=interval_seconds,
        id="outbox",
        max_instances=1,
        coalesce=True,
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)
