"""Settings: defaults, overridden by HOTLINE_* / DATABASE_URL environment variables, then by
the mapping passed to ``create_app`` (tests)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    # Empty means "SQLite file in the instance folder", resolved in create_app.
    "DATABASE_URL": "",
    "SECRET_KEY": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Behind HTTPS only: the browser then never sends the session cookie over plain HTTP.
    "SESSION_COOKIE_SECURE": False,
    # Absolute lifetime of a log-in (seconds): one shift, however busy.
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    # Log-out after this many seconds without a request (0: never).
    "SESSION_IDLE_TIMEOUT": 30 * 60,
    # Both lifetimes are judged on the injected clock. Tests move that clock by days between
    # requests, so under TESTING they only apply when a test sets this to True; None means
    # "on, except under TESTING".
    "SESSION_EXPIRY": None,
    # Log-in throttling, shared by all workers through the login_failures table.
    "LOGIN_FAILURE_WINDOW": 15 * 60,
    "LOGIN_MAX_FAILURES_PER_USER": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 30,
    # Reverse proxies in front that set X-Forwarded-For / -Proto (0: none). Without it every
    # request behind a proxy comes from the proxy's address and shares one throttle.
    "TRUSTED_PROXIES": 0,
    # Largest routing_rules.yaml the admin page accepts.
    "RULES_UPLOAD_MAX_BYTES": 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    # City calendar overrides until the holiday calendar lands: ISO dates.
    "CITY_EXTRA_HOLIDAYS": [],
    "CITY_EXTRA_WORKDAYS": [],
    "INBOX_PAGE_SIZE": 50,
    "DEADLINE_POLICIES": str(PROJECT_ROOT / "deadline_policies.yaml"),
    "ROUTING_RULES": str(PROJECT_ROOT / "routing_rules.yaml"),
    # Empty: the model shipped in classifier/models.
    "CLASSIFIER_MODEL": "",
    # Channels every alert is also sent on besides the web inbox: "log", "webhook", "email".
    "NOTIFY_CHANNELS": ["log"],
    "NOTIFY_WEBHOOK_URL": None,
    # The e-mail channel writes to each agency's address (agencies.email) through this server.
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": False,
    "SMTP_FROM": "hotline@localhost",
}

_ENV = {
    "DATABASE_URL": "DATABASE_URL",
    "SECRET_KEY": "HOTLINE_SECRET_KEY",
    "DEADLINE_POLICIES": "HOTLINE_DEADLINE_POLICIES",
    "ROUTING_RULES": "HOTLINE_ROUTING_RULES",
    "CLASSIFIER_MODEL": "HOTLINE_CLASSIFIER_MODEL",
    "NOTIFY_WEBHOOK_URL": "HOTLINE_NOTIFY_WEBHOOK_URL",
    "SMTP_HOST": "HOTLINE_SMTP_HOST",
    "SMTP_PORT": "HOTLINE_SMTP_PORT",
    "SMTP_USERNAME": "HOTLINE_SMTP_USERNAME",
    "SMTP_PASSWORD": "HOTLINE_SMTP_PASSWORD",
    "SMTP_STARTTLS": "HOTLINE_SMTP_STARTTLS",
    "SMTP_FROM": "HOTLINE_SMTP_FROM",
    "SESSION_COOKIE_SECURE": "HOTLINE_SESSION_COOKIE_SECURE",
    "PERMANENT_SESSION_LIFETIME": "HOTLINE_SESSION_LIFETIME",
    "SESSION_IDLE_TIMEOUT": "HOTLINE_SESSION_IDLE_TIMEOUT",
    "LOGIN_FAILURE_WINDOW": "HOTLINE_LOGIN_FAILURE_WINDOW",
    "LOGIN_MAX_FAILURES_PER_USER": "HOTLINE_LOGIN_MAX_FAILURES_PER_USER",
    "LOGIN_MAX_FAILURES_PER_ADDRESS": "HOTLINE_LOGIN_MAX_FAILURES_PER_ADDRESS",
    "TRUSTED_PROXIES": "HOTLINE_TRUSTED_PROXIES",
}

# Environment values are text; these settings are read as numbers or yes/no ("false" must not
# count as true the way a non-empty string would).
_INTS = {
    "PERMANENT_SESSION_LIFETIME",
    "SESSION_IDLE_TIMEOUT",
    "LOGIN_FAILURE_WINDOW",
    "LOGIN_MAX_FAILURES_PER_USER",
    "LOGIN_MAX_FAILURES_PER_ADDRESS",
    "TRUSTED_PROXIES",
}
_BOOLS = {"SESSION_COOKIE_SECURE"}


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ) if environ is None else environ
    values: dict[str, Any] = {key: environ[var] for key, var in _ENV.items() if environ.get(var)}
    for key in _INTS & values.keys():
        try:
            values[key] = int(values[key])
        except ValueError:
            raise ValueError(f"{_ENV[key]}: 应为整数，而不是 {values[key]!r}") from None
    for key in _BOOLS & values.keys():
        values[key] = values[key].strip().lower() in ("1", "true", "yes", "on")
    return values


def parse_dates(values: list[str], name: str) -> list[date]:
    try:
        return [date.fromisoformat(v) for v in values]
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc
