"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify

from hotline import migrate
from hotline.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@functools.cache
def expected_heads() -> frozenset[str]:
    """The revisions the shipped migrations end in; read once, they do not change while running."""
    return frozenset(ScriptDirectory.from_config(migrate.alembic_config()).get_heads())


@bp.get("/readyz")
def readyz():
    try:
        db.session.execute(sa.text("SELECT 1"))
        # A schema once at head stays there for the life of the process (migrations run before
        # a deploy's workers start), so only an unready app pays for asking again.
        if not current_app.extensions.get("hotline.schema_at_head"):
            current = frozenset(
                MigrationContext.configure(db.session.connection()).get_current_heads()
            )
            if current != expected_heads():
                return jsonify(
                    status="unavailable",
                    reason="schema_not_at_head",
                    current=sorted(current),
                    head=sorted(expected_heads()),
                ), 503
            current_app.extensions["hotline.schema_at_head"] = True
    except sa.exc.SQLAlchemyError as exc:
        return jsonify(status="unavailable", reason=type(exc).__name__), 503
    return jsonify(status="ready")
