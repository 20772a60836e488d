"""Fixtures: a throwaway database per backend with per-test rollback, plus app/client/runner.

SQLite always runs. PostgreSQL runs too when HOTLINE_TEST_DATABASE_URL is set; each test
session works in its own schema there so it never touches other data in that database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from hotline import migrate
from hotline.domain.clock import FixedClock
from hotline.models.engine import make_engine, normalise_url

PG_URL = os.environ.get("HOTLINE_TEST_DATABASE_URL")
# A Tuesday morning in Beijing: working day, office hours.
T0 = datetime(2026, 3, 10, 1, 30, tzinfo=UTC)


@dataclass
class Backend:
    name: str
    engine: sa.Engine
    url: str
    schema: str | None = None  # PostgreSQL: the throwaway schema this backend lives in


def _fresh_backend(name: str, tmp_dir: Path) -> tuple[Backend, callable]:
    """A brand-new, migrated database and a function that disposes of it."""
    if name == "sqlite":
        url = f"sqlite:///{tmp_dir / f'hotline-{uuid.uuid4().hex[:8]}.db'}"
        engine = make_engine(url)
        migrate.upgrade(url)
        return Backend(name, engine, url), engine.dispose

    if not PG_URL:
        pytest.skip("HOTLINE_TEST_DATABASE_URL not set: PostgreSQL tests skipped")
    schema = f"hotline_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    with engine.begin() as conn:
        migrate.upgrade(connection=conn)

    def dispose() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()

    return Backend(name, engine, normalise_url(PG_URL), schema), dispose


PROJECT_INSTANCE = Path(__file__).resolve().parent.parent / "instance"


@pytest.fixture(scope="session", autouse=True)
def nothing_written_into_the_project():
    """Tests keep their files in temporary directories; the instance folder stays untouched."""
    before = sorted(PROJECT_INSTANCE.rglob("*")) if PROJECT_INSTANCE.exists() else None
    yield
    after = sorted(PROJECT_INSTANCE.rglob("*")) if PROJECT_INSTANCE.exists() else None
    assert after == before, f"a test wrote into {PROJECT_INSTANCE}: {after}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    made, dispose = _fresh_backend(request.param, tmp_path_factory.mktemp(request.param))
    yield made
    dispose()


@pytest.fixture
def fresh_backend(request: pytest.FixtureRequest, tmp_path: Path):
    """A database of its own, for tests that must commit (concurrency, CLI)."""
    made, dispose = _fresh_backend(request.param, tmp_path)
    yield made
    dispose()


@pytest.fixture
def connection(backend: Backend) -> Iterator[sa.Connection]:
    conn = backend.engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection: sa.Connection) -> sessionmaker[Session]:
    # Commits inside the code under test only release a SAVEPOINT; the outer rollback undoes all.
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    yield session
    session.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def app(session_factory: sessionmaker[Session], clock: FixedClock, tmp_path: Path):
    from hotline import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
            "SESSION_FACTORY": session_factory,
            "CLOCK": clock,
            "WTF_CSRF_ENABLED": False,  # one test turns it back on to check it
        }
    )


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Production argon2 parameters cost ~50 ms a hash by design; tests only need correctness.
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    monkeypatch.setattr(
        "hotline.services.directory._hasher", PasswordHasher.from_parameters(CHEAPEST)
    )


@pytest.fixture
def city(db: Session, clock: FixedClock):
    from tests.factories import make_city

    return make_city(db, clock)


@pytest.fixture
def desk(city):
    """The test city plus the agencies behind the 110 and 119 lines of the test rules."""
    from tests.support.routing import add_line_agencies

    add_line_agencies(city)
    return city


@pytest.fixture
def routed_app(app):
    """The app routing with the test rules and a classifier the test controls."""
    from tests.support.routing import ROUTER

    app.extensions["hotline.rules"] = ROUTER.holder
    app.extensions["hotline.router"] = ROUTER
    return app
