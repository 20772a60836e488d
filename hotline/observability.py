"""Request ids and structured logs: one JSON line per request on ``hotline.access``, and the
request's id on every record logged while it runs.

Settings (app config, or the environment variable in brackets):

- ``LOG_FORMAT`` (``HOTLINE_LOG_FORMAT``): ``json`` (default) or ``text``. Handlers are installed
  on the ``hotline`` logger only when the app is not TESTING, so pytest keeps its own readable
  capture; tests attach ``log_handler()`` themselves.

What is never logged: headers (the API key travels in ``X-API-Key``), cookies, form or JSON
bodies, query strings. The access line carries the path alone.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it cannot smuggle anything into a log line or a header.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
LOG_FORMATS = ("json", "text")

_request_id: ContextVar[str | None] = ContextVar("hotline_request_id", default=None)

access_log = logging.getLogger("hotline.access")

# Called after every request with (method, endpoint label, status, seconds); the metrics
# module subscribes here so the request is timed once.
RequestObserver = Callable[[str, str, int, float], None]

# The fields an access record may carry into a JSON line; anything else in a record's
# __dict__ stays out, so a careless ``extra=`` cannot leak into the logs.
ACCESS_FIELDS = (
    "method",
    "endpoint",
    "path",
    "status",
    "duration_ms",
    "user_id",
    "api_client_id",
    "remote_addr",
)


def current_request_id() -> str | None:
    """The id of the request being served in this thread, or None outside a request."""
    return _request_id.get()


def accept_request_id(incoming: str | None) -> str:
    """The client's X-Request-ID when it is sane (≤ 64 chars of [A-Za-z0-9._-]), else a new one."""
    if incoming and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def endpoint_label() -> str:
    """The Flask endpoint (bounded: one per route, never the path with its ids); a request that
    matched no route is labelled with the routing error's status ("404", "405")."""
    if request.endpoint:
        return request.endpoint
    return str(getattr(request.routing_exception, "code", None) or 404)


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request's id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (UTC), level, logger, message, request_id, the
    whitelisted access fields, and the traceback of an exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name in ACCESS_FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time, like logging's own last resort, so a handler
    made while stderr was redirected (pytest's capture) never writes to a closed stream."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def log_handler(fmt: str = "json", stream: TextIO | None = None) -> logging.Handler:
    """A handler with the request id filter and the chosen format (stderr unless a stream)."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT: {fmt!r} is not one of {', '.join(LOG_FORMATS)}")
    handler: logging.Handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


class _WithoutWerkzeugRequestLines(logging.Filter):
    """The development server's own request lines repeat our access line and carry the query
    string; its start-up messages stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.rstrip().endswith('"%s" %s %s'))


def configure_logging(fmt: str) -> None:
    """Our handler on the ``hotline`` logger (app, access, scheduler, notify), replacing Flask's
    default one and any we installed before, so calling it twice changes nothing."""
    from flask.logging import default_handler

    logger = logging.getLogger("hotline")
    logger.removeHandler(default_handler)
    for old in [h for h in logger.handlers if getattr(h, "_hotline", False)]:
        logger.removeHandler(old)
    handler = log_handler(fmt)
    handler._hotline = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, _WithoutWerkzeugRequestLines) for f in werkzeug.filters):
        werkzeug.addFilter(_WithoutWerkzeugRequestLines())


def init_app(app: Flask) -> None:
    app.config.setdefault("LOG_FORMAT", os.environ.get("HOTLINE_LOG_FORMAT") or "json")
    fmt = str(app.config["LOG_FORMAT"]).lower()
    if fmt not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT: {fmt!r} is not one of {', '.join(LOG_FORMATS)}")
    if not app.testing:
        configure_logging(fmt)
    observers: list[RequestObserver] = app.extensions.setdefault("hotline.request_observers", [])

    @app.before_request
    def _start() -> None:
        g.hotline_started = time.perf_counter()
        _request_id.set(accept_request_id(request.headers.get(REQUEST_ID_HEADER)))

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = current_request_id()
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        started = g.pop("hotline_started", None)
        seconds = time.perf_counter() - started if started is not None else 0.0
        endpoint = endpoint_label()
        for observe in observers:
            observe(request.method, endpoint, response.status_code, seconds)
        _log_access(endpoint, response.status_code, seconds)
        return response

    @app.teardown_request
    def _forget(_exc: BaseException | None) -> None:
        _request_id.set(None)


def _log_access(endpoint: str, status: int, seconds: float) -> None:
    # Only a user Flask-Login already loaded for this request: asking now would cost a query
    # on pages that never needed one (health checks, the API, /metrics).
    user = g.get("_login_user")
    user_id = getattr(user, "user_id", None) if getattr(user, "is_authenticated", False) else None
    client = g.get("api_client")
    fields = {
        "method": request.method,
        "endpoint": endpoint,
        "path": request.path,  # never the query string
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "user_id": user_id,
        "api_client_id": getattr(client, "id", None),
        "remote_addr": request.remote_addr,
    }
    access_log.info(
        "%s %s %s %.1f ms",
        fields["method"],
        fields["path"],
        status,
        fields["duration_ms"],
        extra=fields,
    )
