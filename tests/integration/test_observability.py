"""Operations: /metrics, request ids and JSON access lines, /readyz against the Alembic head."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from hotline import create_app, migrate
from hotline.domain.vocabulary import Direction
from hotline.observability import log_handler
from hotline.services import tickets as svc
from hotline.web.metrics import FiguresCache
from tests.factories import PASSWORD

PROJECT = Path(__file__).resolve().parents[2]


def login(client, username: str) -> None:
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The JSON lines the production handler would write, for the ``hotline`` loggers."""
    stream = io.StringIO()
    handler = log_handler("json", stream)
    logger = logging.getLogger("hotline")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


def parsed(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# --- /metrics: HTTP -------------------------------------------------------------------------------


def test_request_counter_and_histogram_use_the_endpoint_not_the_path(client, city) -> None:
    ticket = city.dispatched()
    city.db.commit()
    login(client, "boss")
    labels = {"method": "GET", "endpoint": "console.ticket", "status": "200"}
    before = value("hotline_http_requests_total", **labels)
    observed = value("hotline_http_request_duration_seconds_count", endpoint="console.ticket")
    unmatched = value("hotline_http_requests_total", method="GET", endpoint="404", status="404")

    assert client.get(f"/tickets/{ticket.id}").status_code == 200
    assert client.get("/no/such/page/12345").status_code == 404

    assert value("hotline_http_requests_total", **labels) == before + 1
    assert (
        value("hotline_http_request_duration_seconds_count", endpoint="console.ticket")
        == observed + 1
    )
    assert (
        value("hotline_http_requests_total", method="GET", endpoint="404", status="404")
        == unmatched + 1
    )
    body = client.get("/metrics").get_data(as_text=True)
    assert 'endpoint="console.ticket"' in body
    # Ids never become labels: one series per route, whatever was asked for.
    assert f"/tickets/{ticket.id}" not in body and "/no/such" not in body
    assert 'le="0.005"' in body and 'le="5.0"' in body


def test_invented_methods_share_one_label(client) -> None:
    before = value("hotline_http_requests_total", method="other", endpoint="405", status="405")
    client.open("/healthz", method="BREW")
    assert (
        value("hotline_http_requests_total", method="other", endpoint="405", status="405")
        == before + 1
    )


# --- /metrics: figures from the database ---------------------------------------------------------


def test_gauges_equal_the_database_counts(app, client, city, clock) -> None:
    app.extensions["hotline.metrics_cache"] = FiguresCache(ttl=0)
    late = city.dispatched(caller_number="13812345678")
    on_time = city.dispatched()
    received = city.new_ticket()
    received.direction = Direction.TO_12345
    received.call.routing = {"decision": "review", "destination": "review"}
    svc.sign_for(city.ctx(city.housing_staff), on_time.id)
    city.db.commit()

    figures = samples(client.get("/metrics").get_data(as_text=True))
    assert figures[("hotline_tickets", (("state", "dispatched"),))] == 1
    assert figures[("hotline_tickets", (("state", "signed"),))] == 1
    assert figures[("hotline_tickets", (("state", "received"),))] == 1
    assert figures[("hotline_tickets", (("state", "closed"),))] == 0
    assert figures[("hotline_tickets_by_direction", (("direction", "internal"),))] == 2
    assert figures[("hotline_tickets_by_direction", (("direction", "110_to_12345"),))] == 1
    assert figures[("hotline_calls_by_decision", (("decision", "review"),))] == 1
    assert figures[("hotline_calls_by_decision", (("decision", "none"),))] == 2
    assert figures[("hotline_tickets_overdue", ())] == 0
    assert figures[("hotline_business_metrics_up", ())] == 1

    # The injected clock decides "now": past the sign-for deadline, before the reply deadline.
    assert late.next_due_at is not None and on_time.next_due_at is not None
    assert late.next_due_at < on_time.next_due_at
    clock.set(late.next_due_at + timedelta(minutes=1))
    body = client.get("/metrics").get_data(as_text=True)
    assert samples(body)[("hotline_tickets_overdue", ())] == 1
    assert "13812345678" not in body


def test_database_figures_are_cached_per_process(app, client, city) -> None:
    app.extensions["hotline.metrics_cache"] = FiguresCache(ttl=3600)
    city.dispatched()
    city.db.commit()
    first = samples(client.get("/metrics").get_data(as_text=True))
    city.dispatched()
    city.db.commit()
    second = samples(client.get("/metrics").get_data(as_text=True))
    key = ("hotline_tickets", (("state", "dispatched"),))
    assert first[key] == second[key] == 1
    app.extensions["hotline.metrics_cache"] = FiguresCache(ttl=0)
    assert samples(client.get("/metrics").get_data(as_text=True))[key] == 2


def test_metrics_token(app, client) -> None:
    assert client.get("/metrics").status_code == 200  # no token set: open, like /healthz
    app.config["METRICS_TOKEN"] = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "hotline_" not in wrong.get_data(as_text=True)
    assert client.get("/metrics", headers={"Authorization": "s3cret-token"}).status_code == 401
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert right.status_code == 200
    assert right.content_type.startswith("text/plain; version=")
    assert "hotline_http_requests_total" in right.get_data(as_text=True)


MULTIPROCESS_RUN = textwrap.dedent(
    """
    import sys
    from hotline import create_app
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": sys.argv[1]})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    if sys.argv[2] == "scrape":
        sys.stdout.write(client.get("/metrics").get_data(as_text=True))
    """
)


def test_multiprocess_mode_adds_workers_up_and_the_collector_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mp.db'}"
    migrate.upgrade(url)
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}

    def worker(mode: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", MULTIPROCESS_RUN, url, mode],
            env=env,
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    worker("request")  # another "worker", gone by the time of the scrape
    body = worker("scrape")
    assert list(directory.glob("*.db")), "multiprocess mode keeps its figures in files"
    figures = samples(body)
    healthz = (("endpoint", "health.healthz"), ("method", "GET"), ("status", "200"))
    assert figures[("hotline_http_requests_total", healthz)] == 2
    assert body.count("# TYPE hotline_tickets gauge") == 1
    assert figures[("hotline_business_metrics_up", ())] == 1
    assert figures[("hotline_tickets", (("state", "received"),))] == 0


# --- request ids and the access line ------------------------------------------------------------


def test_access_line_is_json_without_query_string_or_secrets(client, log_lines) -> None:
    response = client.get(
        "/healthz?password=hunter2&token=abc",
        headers={"X-API-Key": "sk-live-secret", "Authorization": "Bearer t0ken"},
    )
    request_id = response.headers["X-Request-ID"]
    output = log_lines.getvalue()
    for secret in ("hunter2", "token=abc", "sk-live-secret", "t0ken", "password"):
        assert secret not in output
    (line,) = [r for r in parsed(log_lines) if r["logger"] == "hotline.access"]
    assert line["request_id"] == request_id and len(request_id) == 32
    assert line["path"] == "/healthz" and line["endpoint"] == "health.healthz"
    assert line["method"] == "GET" and line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["timestamp"].endswith("+00:00")
    assert line["user_id"] is None and line["remote_addr"] == "127.0.0.1"


def test_access_line_names_the_logged_in_user(client, city, log_lines) -> None:
    login(client, "boss")
    client.get("/")
    lines = [r for r in parsed(log_lines) if r["logger"] == "hotline.access"]
    assert lines[-1]["endpoint"] == "console.dashboard"
    assert lines[-1]["user_id"] == city.supervisor.id
    assert all(PASSWORD not in json.dumps(r, ensure_ascii=False) for r in parsed(log_lines))


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("abc-123.X_y", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("has space", False),
        ('x"},{"evil":1', False),
        ("", False),
    ],
)
def test_incoming_request_id_is_echoed_only_when_sane(client, sent: str, kept: bool) -> None:
    echoed = client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    if kept:
        assert echoed == sent
    else:
        assert echoed != sent and len(echoed) == 32 and int(echoed, 16) >= 0


@pytest.fixture
def boom(app):
    def explode():
        raise RuntimeError("the disk is on fire")

    app.add_url_rule("/boom", "boom", explode)
    return app


def test_server_error_shows_the_request_id_and_its_log_record_carries_it(
    boom, client, log_lines
) -> None:
    response = client.get("/boom", headers={"X-Request-ID": "support-42"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "support-42" in page and "请求编号" in page and "the disk is on fire" not in page
    records = parsed(log_lines)
    (error,) = [r for r in records if r["level"] == "ERROR"]
    assert error["request_id"] == "support-42" and "RuntimeError" in error["exception"]
    (access,) = [r for r in records if r["logger"] == "hotline.access"]
    assert access["request_id"] == "support-42" and access["status"] == 500

    as_json = client.get("/boom", headers={"Accept": "application/json"})
    assert as_json.json["request_id"] == as_json.headers["X-Request-ID"]
    assert as_json.json["error"] == "internal_error"


def test_client_errors_do_not_carry_the_request_id_in_the_body(client) -> None:
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404 and "request_id" not in response.json
    assert response.headers["X-Request-ID"]


# --- /readyz ------------------------------------------------------------------------------------


def test_readyz_waits_for_the_schema_at_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["reason"] == "schema_not_at_head"
    assert response.json["current"] == [] and response.json["head"]

    migrate.upgrade(url)
    assert client.get("/readyz").json == {"status": "ready"}
    # Once at head the verdict is kept: a readiness probe costs one SELECT 1.
    migrate.downgrade(url)
    assert client.get("/readyz").status_code == 200


def test_readyz_on_the_test_database(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json == {"status": "ready"}
