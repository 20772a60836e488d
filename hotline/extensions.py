"""Flask extensions, attached in create_app with init_app (flaskr style)."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, g
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from sqlalchemy.orm import Session, sessionmaker

from hotline.models.engine import make_engine, make_session_factory
from hotline.services.routing import Router, load_classifier


class Database:
    """One engine per app, one session per request (or CLI command), removed at teardown.

    Creating the engine opens no connection, so create_app still runs no queries. Tests can
    hand in their own session factory (bound to a rolled-back transaction) via
    ``config["SESSION_FACTORY"]``.
    """

    def init_app(self, app: Flask) -> None:
        factory = app.config.get("SESSION_FACTORY")
        engine = None
        if factory is None:
            engine = make_engine(app.config["DATABASE_URL"])
            factory = make_session_factory(engine)
        app.extensions["hotline.db"] = (engine, factory)
        app.teardown_appcontext(self._remove_session)

    @staticmethod
    def _state(app: Flask) -> tuple[sa.Engine | None, sessionmaker[Session]]:
        return app.extensions["hotline.db"]

    def engine(self, app: Flask) -> sa.Engine:
        engine, factory = self._state(app)
        if engine is None:
            bind = factory.kw.get("bind")
            engine = bind.engine if isinstance(bind, sa.Connection) else bind
        assert isinstance(engine, sa.Engine)
        return engine

    @property
    def session(self) -> Session:
        from flask import current_app

        if "hotline_session" not in g:
            _, factory = self._state(current_app)
            g.hotline_session = factory()
        return g.hotline_session

    @staticmethod
    def _remove_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("hotline_session", None)
        if session is not None:
            session.close()


db = Database()
csrf = CSRFProtect()
login_manager = LoginManager()


_router_lock = threading.Lock()


def app_router(app: Flask) -> Router:
    """The app's Router, made on first use: loading the model takes about two seconds, which
    commands and pages that never classify should not pay."""
    router = app.extensions.get("hotline.router")
    if router is None:
        with _router_lock:
            router = app.extensions.get("hotline.router")
            if router is None:
                from classifier.artifacts import DEFAULT_MODEL

                # A model that cannot be loaded gives way to the shipped one, or to answering
                # every call "review", with an alert: the desk and the API stay up.
                model = app.config.get("CLASSIFIER_MODEL") or None
                router = Router(
                    load_classifier(
                        Path(model) if model else None,
                        DEFAULT_MODEL,
                        app.extensions["hotline.config_alerts"],
                    ),
                    app.extensions["hotline.rules"],
                    app.extensions["hotline.calendar"],
                )
                app.extensions["hotline.router"] = router
    return router
