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
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
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
}


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ) if environ is None else environ
    return {key: environ[var] for key, var in _ENV.items() if environ.get(var)}


def parse_dates(values: list[str], name: str) -> list[date]:
    try:
        return [date.fromisoformat(v) for v in values]
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc
