"""A broken routing rules file and a corrupt model, at start-up and at reload, under load: the
previous good one stays in force, with an alert (ERROR "ALERT" in the log and
``hotline_config_fallback`` in /metrics), and calls keep being accepted."""

from __future__ import annotations

import shutil
import signal
import tempfile
from pathlib import Path

from classifier import artifacts
from drills._faults_load import Load, get, prepared_copy, wait_for
from drills._faults_stack import Result, finish
from drills.common import ROOT, Stack, free_port

BROKEN_RULES = "version: 1\nrules: [this is: not: valid\n"


def fallback(stack: Stack, component: str) -> float | None:
    try:  # a new worker's first requests wait for its model to load: be patient
        status, text, _ = get(f"{stack.url}/metrics", timeout=30)
    except OSError:
        return None
    if status != 200:
        return None
    prefix = f'hotline_config_fallback{{component="{component}"}}'
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.split()[-1])
    return None


def _shows(stack: Stack, expected: dict[str, float]) -> bool:
    """Whether /metrics comes to show these fallback gauges (every worker answers alike)."""
    return (
        wait_for(lambda: all(fallback(stack, c) == v for c, v in expected.items()), 60) is not None
    )


def _reload(stack: Stack) -> None:
    """``kill -HUP`` the gunicorn master: new workers run create_app again."""
    assert stack.gunicorn is not None
    before = set(stack.worker_pids())
    stack.gunicorn.send_signal(signal.SIGHUP)
    wait_for(lambda: before.isdisjoint(stack.worker_pids()) and stack.worker_pids(), 30)


def _accepting(load: Load, seconds: float = 90) -> bool:
    before = load.figures.accepted
    return wait_for(lambda: load.figures.accepted > before + 2, seconds) is not None


def bad_configuration(short: bool) -> Result:
    result = Result("invalid rules file and corrupt model, at start-up and at reload")
    db_url, keys = prepared_copy("hotline_drill_faults_config")
    conf = Path(tempfile.mkdtemp(prefix="hotline-drill-conf-"))
    rules = conf / "routing_rules.yaml"
    shutil.copy(ROOT / "routing_rules.yaml", rules)
    stack = Stack(db_url, port=free_port(), workers=2, env={"HOTLINE_ROUTING_RULES": str(rules)})
    try:
        stack.start_web()
        load = Load(stack.url, keys, threads=2, prefix="config").start()
        result.require(_accepting(load), "calls accepted with the good rules")
        result.require(
            (conf / "routing_rules.yaml.last-good").exists() and _shows(stack, {"rules": 0}),
            "the good file kept as routing_rules.yaml.last-good; no alert",
        )
        rules.write_text(BROKEN_RULES, encoding="utf-8")
        _reload(stack)
        result.require(_shows(stack, {"rules": 1}), "invalid file + kill -HUP: alert in /metrics")
        result.require(_accepting(load), "calls still accepted on the last good rules")
        if not short:  # --short: one reload fewer
            shutil.copy(ROOT / "routing_rules.yaml", rules)
            _reload(stack)
            result.require(_shows(stack, {"rules": 0}), "a valid file + kill -HUP ends the alert")
            rules.write_text(BROKEN_RULES, encoding="utf-8")

        model = _truncated_model(conf)
        stack.env["HOTLINE_CLASSIFIER_MODEL"] = str(model)
        assert stack.gunicorn is not None
        stack.gunicorn.terminate()
        stack.gunicorn.wait(30)
        stack.start_web()  # a cold start with both files broken
        result.require(
            _shows(stack, {"rules": 1, "model": 1}),
            "cold start with an invalid rules file and a truncated model: up, both alerts on",
        )
        result.require(_accepting(load), "calls accepted (last good rules, shipped model)")
        load.stop()
        alerts = (stack.logs / "gunicorn.log").read_text(errors="replace").count("ALERT ")
        result.say(f"ERROR 'ALERT' lines in the log: {alerts}")
        result.require(alerts > 0, "the fallbacks were logged as ERROR alerts")
    finally:
        stack.stop()
        shutil.rmtree(conf, ignore_errors=True)
    result.say(
        "(corrupt, random-bytes and other-scikit-learn models, and no usable model at all → "
        "every call to review, are covered by tests/integration/test_config_fallback.py)"
    )
    return finish(result, load, db_url)


def _truncated_model(folder: Path) -> Path:
    model = folder / "model.joblib"
    data = artifacts.DEFAULT_MODEL.read_bytes()
    model.write_bytes(data[: len(data) // 2])
    shutil.copy(artifacts.metadata_path(artifacts.DEFAULT_MODEL), artifacts.metadata_path(model))
    return model
