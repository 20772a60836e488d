"""A live server on a throwaway SQLite file and a headless Chromium driven by Playwright.

Chromium is Debian's package (/usr/bin/chromium); Playwright never downloads a browser. The
tests are skipped, with the reason, where that package is missing; `.ci/run` installs it.
Screenshots go to the artefact folder ``$HOTLINE_ARTEFACTS`` (default: a temporary folder),
never into the repository.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from hotline import create_app, migrate
from hotline.domain.clock import FixedClock
from hotline.models.engine import make_engine
from tests.conftest import T0

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(
    os.environ.get("HOTLINE_ARTEFACTS") or Path(tempfile.gettempdir()) / "hotline-artefacts"
)
SCREENSHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def live_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def live_db(live_url: str):
    engine = make_engine(live_url)
    factory = sessionmaker(bind=engine)

    @contextmanager
    def open_session() -> Iterator[Session]:
        with factory() as session:
            yield session

    yield open_session
    engine.dispose()


@pytest.fixture
def live_server(live_url: str, live_db) -> Iterator[str]:
    from tests.factories import make_city
    from tests.support.routing import ROUTER, add_line_agencies

    clock = FixedClock(T0)
    with live_db() as db:
        city = make_city(db, clock)
        add_line_agencies(city)
        db.commit()
    app = create_app(
        {"SECRET_KEY": "browser-test", "DATABASE_URL": live_url, "CLOCK": clock, "TESTING": True}
    )
    app.extensions["hotline.rules"] = ROUTER.holder
    app.extensions["hotline.router"] = ROUTER
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
