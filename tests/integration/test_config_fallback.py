"""A broken rules file or model never takes the platform down: the last good one stays in force,
with an ERROR "ALERT" log line and ``hotline_config_fallback`` in /metrics."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from classifier import artifacts
from hotline import create_app
from hotline.config import DEFAULTS
from hotline.rules.schema import RulesError
from hotline.services.exchange import create_client
from hotline.services.routing import (
    MODEL,
    MODEL_UNAVAILABLE,
    RULES,
    ConfigAlerts,
    ReviewOnly,
    RulesHolder,
    last_good,
    load_classifier,
)

SHIPPED_RULES = Path(DEFAULTS["ROUTING_RULES"])
BROKEN = "version: 1\nrules: [this is: not: valid\n"


def make_app(tmp_path: Path, **config: object):
    return create_app(
        {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'u.db'}"}
        | config
    )


def gauge(app, component: str) -> float:
    body = app.test_client().get("/metrics").get_data(as_text=True)
    line = f'hotline_config_fallback{{component="{component}"}}'
    return next(float(row.split()[-1]) for row in body.splitlines() if row.startswith(line))


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "conf" / "routing_rules.yaml"
    path.parent.mkdir()
    shutil.copy(SHIPPED_RULES, path)
    return path


def edited_version(path: Path, version: int) -> None:
    text = path.read_text(encoding="utf-8")
    head, rest = text.split("version:", 1)
    path.write_text(f"{head}version: {version}\n{rest.split(chr(10), 1)[1]}", encoding="utf-8")


def test_a_valid_file_is_kept_as_the_last_good_copy(tmp_path, rules_file) -> None:
    app = make_app(tmp_path, ROUTING_RULES=str(rules_file))
    assert last_good(rules_file).read_bytes() == rules_file.read_bytes()
    assert app.extensions["hotline.config_alerts"].active() == {}
    assert gauge(app, RULES) == 0 and gauge(app, MODEL) == 0


def test_the_shipped_file_gets_no_copy_beside_it(tmp_path) -> None:
    make_app(tmp_path)
    assert not last_good(SHIPPED_RULES).exists()


def test_an_invalid_file_at_start_up_gives_way_to_the_last_good_one(
    tmp_path, rules_file, caplog
) -> None:
    edited_version(rules_file, 41)
    make_app(tmp_path, ROUTING_RULES=str(rules_file))  # valid: becomes the last good copy
    rules_file.write_text(BROKEN, encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="hotline.config"):
        app = make_app(tmp_path, ROUTING_RULES=str(rules_file))  # e.g. a kill -HUP reload
    holder: RulesHolder = app.extensions["hotline.rules"]
    assert holder.rules.version == 41 and holder.source == last_good(rules_file)
    assert gauge(app, RULES) == 1
    assert any(r.getMessage().startswith("ALERT rules:") for r in caplog.records)
    assert "routing_rules.yaml.last-good" in app.extensions["hotline.config_alerts"].active()[RULES]
    assert last_good(rules_file).read_text(encoding="utf-8") != BROKEN  # never overwritten


def test_without_a_last_good_copy_the_shipped_file_is_used(tmp_path, rules_file) -> None:
    rules_file.write_text(BROKEN, encoding="utf-8")
    app = make_app(tmp_path, ROUTING_RULES=str(rules_file))
    assert app.extensions["hotline.rules"].source == SHIPPED_RULES
    assert gauge(app, RULES) == 1


def test_start_up_stops_only_when_nothing_can_be_used(rules_file) -> None:
    rules_file.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(RulesError):
        RulesHolder.start(rules_file, shipped=None)


def test_a_reload_with_an_invalid_file_keeps_the_rules_and_alerts(rules_file) -> None:
    alerts = ConfigAlerts()
    holder = RulesHolder.start(rules_file, shipped=SHIPPED_RULES, alerts=alerts)
    before = holder.rules
    broken = rules_file.with_name("new.yaml")
    broken.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(RulesError):
        holder.reload(broken)
    assert holder.rules is before and holder.source == rules_file
    assert RULES in alerts.active()
    edited_version(rules_file, 42)
    assert holder.reload(rules_file).version == 42
    assert alerts.active() == {}  # a good reload ends the alert
    assert "version: 42" in last_good(rules_file).read_text(encoding="utf-8")


def broken_model(folder: Path, how: str) -> Path:
    """A copy of the shipped model, damaged in one of the ways a model file breaks."""
    folder.mkdir(exist_ok=True)
    model = folder / "model.joblib"
    shutil.copy(artifacts.DEFAULT_MODEL, model)
    shutil.copy(artifacts.metadata_path(artifacts.DEFAULT_MODEL), artifacts.metadata_path(model))
    meta = artifacts.read_metadata(model)
    if how == "truncated":
        model.write_bytes(model.read_bytes()[:4096])
    elif how == "random bytes, metadata rewritten to match":
        model.write_bytes(bytes(range(256)) * 64)
        meta["model_sha256"] = artifacts.file_sha256(model)
    elif how == "another scikit-learn":
        meta["libraries"]["scikit-learn"] = "0.24.2"
    else:
        raise AssertionError(how)
    import json

    artifacts.metadata_path(model).write_text(json.dumps(meta), encoding="utf-8")
    return model


HOW = ["truncated", "random bytes, metadata rewritten to match", "another scikit-learn"]


@pytest.mark.parametrize("how", HOW)
def test_an_unusable_model_with_no_fallback_answers_review(tmp_path, how) -> None:
    bad = broken_model(tmp_path / "configured", how)
    shipped_too = broken_model(tmp_path / "shipped", "truncated")
    alerts = ConfigAlerts()
    classifier = load_classifier(bad, shipped_too, alerts)
    assert isinstance(classifier, ReviewOnly)
    prediction = classifier.predict("有人在楼下打架")
    assert prediction.decision == "review" and prediction.reason == MODEL_UNAVAILABLE
    assert "人工审核" in alerts.active()[MODEL]


def test_a_corrupt_configured_model_gives_way_to_the_shipped_one(tmp_path) -> None:
    alerts = ConfigAlerts()
    bad = broken_model(tmp_path, "truncated")
    classifier = load_classifier(bad, artifacts.DEFAULT_MODEL, alerts)
    assert not isinstance(classifier, ReviewOnly)
    assert classifier.predict("小区门口井盖松动了").decision in ("police", "non_police")
    assert str(artifacts.DEFAULT_MODEL) in alerts.active()[MODEL]


def test_a_corrupt_model_is_reported_at_start_up_and_the_api_stays_up(
    tmp_path, app, desk, monkeypatch
) -> None:
    from tests.support.routing import ROUTER

    bad = broken_model(tmp_path / "configured", "truncated")
    monkeypatch.setattr(artifacts, "DEFAULT_MODEL", broken_model(tmp_path / "shipped", "truncated"))
    started = make_app(tmp_path, CLASSIFIER_MODEL=str(bad))
    assert gauge(started, MODEL) == 1  # before any call needed the model
    app.config["CLASSIFIER_MODEL"] = str(bad)
    app.extensions["hotline.rules"] = ROUTER.holder
    _, key = create_client(desk.ctx(desk.admin), name="110接处警系统", hotline="110")
    desk.db.commit()
    answer = app.test_client().post(
        "/api/v1/calls",
        json={"transcript": "有人在楼下打架"},
        headers={"X-API-Key": key, "Idempotency-Key": "model-down"},
    )
    assert answer.status_code == 202, answer.json  # kept for a call taker, not lost
    assert answer.json["status"] == "queued" and answer.json["ticket"] is None
    assert gauge(app, MODEL) == 1
