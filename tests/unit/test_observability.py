"""Request ids, the JSON formatter, the metrics collector and gunicorn's hooks, without a server."""

from __future__ import annotations

import io
import json
import logging
import runpy
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from hotline import observability as obs
from hotline.web.metrics import BusinessCollector, Figures

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("good", ["a", "0f3c9e2a-77", "node1.req_42", "x" * 64])
def test_sane_request_ids_are_kept(good: str) -> None:
    assert obs.accept_request_id(good) == good


@pytest.mark.parametrize("bad", [None, "", "x" * 65, "a b", "id;rm", "ä", "a/b", "a\tb"])
def test_other_request_ids_are_replaced(bad: str | None) -> None:
    made = obs.accept_request_id(bad)
    assert made != bad and len(made) == 32 and set(made) <= set("0123456789abcdef")


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord("hotline.access", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    record.__dict__.update(extra)
    return record


def test_json_lines_keep_only_known_fields() -> None:
    record = _record(status=200, path="/x", password="hunter2", headers={"X-API-Key": "k"})
    obs.RequestIdFilter().filter(record)
    line = json.loads(obs.JsonFormatter().format(record))
    assert line["message"] == "GET /x" and line["status"] == 200 and line["path"] == "/x"
    assert line["request_id"] is None  # outside a request
    assert "password" not in line and "headers" not in line


def test_the_filter_stamps_the_current_request_id() -> None:
    token = obs._request_id.set("req-7")
    try:
        stream = io.StringIO()
        logger = logging.getLogger("hotline.test_observability")
        handler = obs.log_handler("text", stream)
        logger.addHandler(handler)
        logger.propagate = False
        logger.warning("something odd")
        assert "[req-7] something odd" in stream.getvalue()
    finally:
        obs._request_id.reset(token)
        logger.removeHandler(handler)
        logger.propagate = True


def test_exceptions_go_into_one_json_line() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        record = _record()
        record.exc_info = sys.exc_info()
    text = obs.JsonFormatter().format(record)
    assert "\n" not in text and "ValueError: bad" in json.loads(text)["exception"]


def test_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        obs.log_handler("xml")


def test_werkzeug_request_lines_are_dropped_its_banner_kept() -> None:
    from werkzeug.serving import WSGIRequestHandler

    stream = io.StringIO()
    werkzeug = logging.getLogger("werkzeug")
    handler = logging.StreamHandler(stream)
    werkzeug.addHandler(handler)
    werkzeug.addFilter(only_banners := obs._WithoutWerkzeugRequestLines())
    try:
        # The development server's own request line, through its own logging call.
        line = WSGIRequestHandler.__new__(WSGIRequestHandler)
        line.client_address = ("127.0.0.1", 5555)
        line.path, line.command, line.request_version = "/?q=secret", "GET", "HTTP/1.1"
        line.log_request(200, 5)
        werkzeug.info("Press CTRL+C to quit")
    finally:
        werkzeug.removeFilter(only_banners)
        werkzeug.removeHandler(handler)
    assert stream.getvalue() == "Press CTRL+C to quit\n"


def _exposition(figures: Figures | None) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BusinessCollector(figures))
    return generate_latest(registry).decode()


def test_collector_without_figures_says_the_database_is_down() -> None:
    body = _exposition(None)
    assert "hotline_business_metrics_up 0.0" in body and "hotline_tickets{" not in body


def test_collector_yields_every_figure() -> None:
    body = _exposition(
        Figures(
            tickets_by_state={"received": 3},
            tickets_by_direction={"internal": 3},
            overdue=2,
            calls_by_decision={"police": 1},
            seconds=0.25,
        )
    )
    assert 'hotline_tickets{state="received"} 3.0' in body
    assert 'hotline_tickets_by_direction{direction="internal"} 3.0' in body
    assert "hotline_tickets_overdue 2.0" in body
    assert 'hotline_calls_by_decision{decision="police"} 1.0' in body
    assert "hotline_business_metrics_up 1.0" in body


def test_gunicorn_hooks_wipe_stale_files_and_mark_workers_dead(tmp_path, monkeypatch) -> None:
    hooks = runpy.run_path(str(PROJECT / "gunicorn.conf.py"))
    assert hooks["accesslog"] is None
    directory = tmp_path / "prom"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    hooks["on_starting"](None)
    assert directory.is_dir()
    (directory / "counter_111.db").write_bytes(b"old")
    (directory / "notes.txt").write_text("not ours")
    hooks["on_starting"](None)
    assert sorted(p.name for p in directory.iterdir()) == ["notes.txt"]

    (directory / "gauge_livesum_4242.db").write_bytes(b"")
    (directory / "counter_4242.db").write_bytes(b"")
    hooks["child_exit"](None, SimpleNamespace(pid=4242))
    assert not (directory / "gauge_livesum_4242.db").exists()
    assert (directory / "counter_4242.db").exists()  # counters of a dead worker still count


def test_gunicorn_hooks_do_nothing_without_the_directory(tmp_path, monkeypatch) -> None:
    hooks = runpy.run_path(str(PROJECT / "gunicorn.conf.py"))
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    hooks["on_starting"](None)
    hooks["child_exit"](None, SimpleNamespace(pid=1))
    assert list(tmp_path.iterdir()) == []
