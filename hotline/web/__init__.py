"""Thin blueprints. Each request builds one service Context and commits once at the end."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, abort, current_app
from flask_login import current_user

from hotline.domain.clock import to_local
from hotline.domain.lifecycle import TicketState
from hotline.domain.vocabulary import Role
from hotline.extensions import db
from hotline.services.context import Actor, Context


def request_context(actor: Actor | None = None) -> Context:
    """The service Context of the current request: its session, its actor (the logged-in user
    unless one is given, e.g. an API client's system actor), the app's clock."""
    if actor is None:
        if not current_user.is_authenticated:
            # Never fall back to a powerful actor: a route that forgot @login_required stays
            # closed.
            abort(401)
        actor = Actor(
            role=Role(current_user.role),
            user_id=current_user.user_id,
            agency_id=current_user.agency_id,
            name=current_user.display_name,
        )
    return Context(
        db=db.session,
        actor=actor,
        now=current_app.extensions["hotline.clock"].now(),
        calendar=current_app.extensions["hotline.calendar"],
        policies=current_app.extensions["hotline.policies"],
    )


def register_blueprints(app: Flask) -> None:
    from hotline.web import admin, api, auth, console, desk, errors, health, reports, workbench
    from hotline.web.metrics import bp as metrics_bp

    app.register_blueprint(health.bp)
    app.register_blueprint(metrics_bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(workbench.bp)
    app.register_blueprint(desk.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(admin.bp)
    auth.init_login(app)
    errors.register_error_handlers(app)
    from hotline.web import security

    security.init_app(app)

    @app.template_filter("local")
    def _local(value: object, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """Stored UTC shown as Beijing time, the only time people here read."""
        return to_local(value).strftime(fmt) if isinstance(value, datetime) else ""

    @app.context_processor
    def _globals() -> dict[str, object]:
        return {"TicketState": TicketState, "Role": Role}

    @app.template_filter("mask_phone")
    def _mask_phone(value: str | None) -> str:
        """138****5678: agency staff see enough to recognise a number, not to call it."""
        if not value:
            return "—"
        digits = value.replace(" ", "").replace("-", "")
        return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"
