"""hotline: the 110 / 12345 transfer platform."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from hotline.config import DEFAULTS, from_environment, parse_dates
from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import Clock, SystemClock
from hotline.domain.policies import load_policies
from hotline.services.routing import ConfigAlerts, RulesHolder, check_model


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. Wires extensions and blueprints; opens no connection and runs no query."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config.update(from_environment())
    if config:
        app.config.update(config)

    from hotline import observability

    # Before anything logs: request ids, the access line and the log format.
    observability.init_app(app)

    instance = Path(app.instance_path)
    if not app.config["DATABASE_URL"] or not app.config["SECRET_KEY"]:
        instance.mkdir(parents=True, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'hotline.db'}"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key")

    clock: Clock = app.config.get("CLOCK") or SystemClock()
    app.extensions["hotline.clock"] = clock
    app.extensions["hotline.calendar"] = calendar = WorkingCalendar.chinese(
        holidays=parse_dates(app.config["CITY_EXTRA_HOLIDAYS"], "CITY_EXTRA_HOLIDAYS"),
        workdays=parse_dates(app.config["CITY_EXTRA_WORKDAYS"], "CITY_EXTRA_WORKDAYS"),
    )

    # A broken policy file stops start-up with the place of the error, before any request.
    app.extensions["hotline.policies"] = policies = load_policies(
        Path(app.config["DEADLINE_POLICIES"])
    )
    # The routing rules: an invalid file gives way to its last good copy or the shipped file,
    # with an alert (start-up stops only when none can be used). Agency codes are checked by
    # `hotline rules check` and on upload, where the database may be asked.
    app.extensions["hotline.config_alerts"] = alerts = ConfigAlerts()
    app.extensions["hotline.rules"] = RulesHolder.start(
        Path(app.config["ROUTING_RULES"]),
        policies=set(policies.policies),
        shipped=Path(DEFAULTS["ROUTING_RULES"]),
        alerts=alerts,
    )
    if app.config["CLASSIFIER_MODEL"]:  # the shipped model is checked when it is built
        check_model(Path(app.config["CLASSIFIER_MODEL"]), alerts)
    for warning in calendar.warnings(clock.now().date()):
        app.logger.warning("calendar: %s", warning)

    from hotline.extensions import csrf, db, login_manager

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)

    from hotline.web import register_blueprints

    register_blueprints(app)

    from hotline.web import metrics

    metrics.init_app(app)

    from hotline.cli import register_commands

    register_commands(app)
    return app


def _instance_secret(path: Path) -> str:
    """A per-installation secret, made once, so sessions survive restarts without configuration."""
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_hex(32)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
