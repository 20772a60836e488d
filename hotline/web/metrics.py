"""``/metrics`` in the Prometheus text format: HTTP traffic, and business figures counted in the
database at scrape time.

Under gunicorn each worker is a process of its own. With ``PROMETHEUS_MULTIPROC_DIR`` set
(before the app is imported; ``gunicorn.conf.py`` wipes it at start and marks exited workers
dead), the HTTP counters and histograms are kept in files there and every worker's scrape adds
them all up. The business gauges are never stored that way: a collector asks the database
when scraped, so the figure is the same whichever worker answers and is never summed across
workers. Without the variable the default per-process registry is used.

The figures hold counts and enum labels only, no personal data. ``METRICS_TOKEN``
(``HOTLINE_METRICS_TOKEN``), when set, must come as ``Authorization: Bearer <token>``.
The database figures are cached per process for ``METRICS_DB_CACHE_SECONDS``
(``HOTLINE_METRICS_DB_CACHE_SECONDS``, 30 by default): at a million tickets and calls on
PostgreSQL one count took 0.8-1.4 s, mostly the scan of the calls' JSON routing decision, for
which no index can help a count (README, "Operations").
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from hotline.domain.lifecycle import TicketState
from hotline.domain.vocabulary import Direction
from hotline.extensions import csrf, db
from hotline.models import Call, Ticket
from hotline.rules.schema import Decision
from hotline.services.routing import MODEL, RULES

log = logging.getLogger("hotline.metrics")

bp = Blueprint("metrics", __name__)
csrf.exempt(bp)

# Methods a client may invent are folded into one label, so they cannot grow the series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "hotline_http_requests",
    "HTTP requests answered, by method, Flask endpoint and status.",
    ["method", "endpoint", "status"],
)
HTTP_LATENCY = Histogram(
    "hotline_http_request_duration_seconds",
    "Time from the first to the last request hook, by Flask endpoint.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


def observe_request(method: str, endpoint: str, status: int, seconds: float) -> None:
    method = method if method in KNOWN_METHODS else "other"
    HTTP_REQUESTS.labels(method, endpoint, str(status)).inc()
    HTTP_LATENCY.labels(endpoint).observe(seconds)


# --- business figures ---------------------------------------------------------------------------

NO_ROUTING = "none"  # a call registered without the classifier (by hand, before the desk)
OTHER = "other"


@dataclass(frozen=True)
class Figures:
    tickets_by_state: dict[str, int]
    tickets_by_direction: dict[str, int]
    overdue: int
    calls_by_decision: dict[str, int]
    seconds: float  # what counting them cost


def count_figures(session: Session, now: datetime) -> Figures:
    """Three aggregate queries; every known label is present, zero when nothing has it."""
    started = time.perf_counter()
    by_state = dict.fromkeys((s.value for s in TicketState), 0)
    by_direction = dict.fromkeys((d.value for d in Direction), 0)
    # One scan of tickets answers both "by state" and "each way".
    rows = session.execute(
        sa.select(Ticket.state, Ticket.direction, sa.func.count()).group_by(
            Ticket.state, Ticket.direction
        )
    )
    for state, direction, count in rows:
        by_state[state.value] += count
        by_direction[direction.value] += count
    overdue = session.scalar(
        sa.select(sa.func.count())
        .select_from(Ticket)
        .where(Ticket.is_open, Ticket.next_due_at < now)
    )
    decision = Call.routing["decision"].as_string()
    by_decision = dict.fromkeys([*(d.value for d in Decision), NO_ROUTING], 0)
    for value, count in session.execute(sa.select(decision, sa.func.count()).group_by(decision)):
        key = NO_ROUTING if value is None else value if value in by_decision else OTHER
        by_decision[key] = by_decision.get(key, 0) + count
    return Figures(
        by_state,
        by_direction,
        int(overdue or 0),
        by_decision,
        time.perf_counter() - started,
    )


@dataclass
class FiguresCache:
    """The last figures of this process and when (monotonic) they were counted."""

    ttl: float
    figures: Figures | None = None
    counted_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, session: Session, now: datetime) -> Figures:
        with self.lock:  # threaded workers: one count at a time, the others reuse it
            fresh = time.monotonic() - self.counted_at < self.ttl
            if self.figures is None or not fresh:
                self.figures = count_figures(session, now)
                self.counted_at = time.monotonic()
            return self.figures


class BusinessCollector(Collector):
    """Yields gauges from figures already counted: collecting itself runs no query."""

    def __init__(self, figures: Figures | None) -> None:
        self.figures = figures

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "hotline_business_metrics_up",
            "1 when the database figures below could be counted, 0 when the database failed.",
        )
        up.add_metric([], 1 if self.figures else 0)
        yield up
        f = self.figures
        if f is None:
            return
        yield _labelled("hotline_tickets", "Tickets by state.", "state", f.tickets_by_state)
        yield _labelled(
            "hotline_tickets_by_direction",
            "Tickets by transfer direction (110→12345, 12345→110, internal).",
            "direction",
            f.tickets_by_direction,
        )
        overdue = GaugeMetricFamily(
            "hotline_tickets_overdue", "Open tickets whose next deadline has passed."
        )
        overdue.add_metric([], f.overdue)
        yield overdue
        yield _labelled(
            "hotline_calls_by_decision",
            "Calls by the routing decision stored at intake ('none': no classifier reading).",
            "decision",
            f.calls_by_decision,
        )
        cost = GaugeMetricFamily(
            "hotline_business_metrics_query_seconds",
            "What counting the database figures cost when they were last counted.",
        )
        cost.add_metric([], f.seconds)
        yield cost


class ConfigFallbackCollector(Collector):
    """1 per component (rules, model) while this process runs on a fallback configuration."""

    def __init__(self, active: Collection[str]) -> None:
        self.active = active

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield _labelled(
            "hotline_config_fallback",
            "1 while an invalid routing rules file or model has been replaced by the last good "
            "one (see the ERROR log line 'ALERT').",
            "component",
            {c: int(c in self.active) for c in (RULES, MODEL)},
        )


def _labelled(name: str, doc: str, label: str, values: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


class _DefaultRegistry(Collector):
    """This process's own registry (HTTP metrics, process and GC figures), single-process mode."""

    def collect(self) -> Iterator[object]:  # type: ignore[override]
        return REGISTRY.collect()


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition(figures: Figures | None, fallbacks: Collection[str] = ()) -> bytes:
    # A registry per scrape: the business collector is bound to this scrape's figures, and
    # several apps (tests) in one process never clash in a global registry.
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_mode():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_DefaultRegistry())
    registry.register(BusinessCollector(figures))
    registry.register(ConfigFallbackCollector(fallbacks))
    return generate_latest(registry)


def _authorised() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        return True
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), str(token))


@bp.get("/metrics")
def metrics():
    if not _authorised():
        challenge = {"WWW-Authenticate": 'Bearer realm="metrics"'}
        return Response("unauthorized\n", 401, challenge, mimetype="text/plain")
    cache: FiguresCache = current_app.extensions["hotline.metrics_cache"]
    try:
        figures: Figures | None = cache.get(
            db.session, current_app.extensions["hotline.clock"].now()
        )
    except sa.exc.SQLAlchemyError:
        # The HTTP figures are still worth scraping when the database is down.
        log.warning("metrics: database figures unavailable", exc_info=True)
        db.session.rollback()
        figures = None
    alerts = current_app.extensions.get("hotline.config_alerts")
    fallbacks = alerts.active() if alerts is not None else {}
    return Response(exposition(figures, fallbacks), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    from hotline.observability import RequestObserver

    app.config.setdefault("METRICS_TOKEN", os.environ.get("HOTLINE_METRICS_TOKEN") or None)
    app.config.setdefault(
        "METRICS_DB_CACHE_SECONDS", float(os.environ.get("HOTLINE_METRICS_DB_CACHE_SECONDS", 30))
    )
    app.extensions["hotline.metrics_cache"] = FiguresCache(
        float(app.config["METRICS_DB_CACHE_SECONDS"])
    )
    observers: list[RequestObserver] = app.extensions.setdefault("hotline.request_observers", [])
    observers.append(observe_request)
