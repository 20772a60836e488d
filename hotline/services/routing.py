"""Classify and route: the classifier's reading of a call, then the city's rules.

A ``Router`` holds the loaded model and rules; both are read-only after loading, so one router
serves every request of a process. ``RulesHolder`` swaps in new rules only when they validate:
a bad file leaves the rules in force and says why.

A broken configuration file never takes the platform down, and never goes unnoticed:
- rules: every file that validates is copied beside itself as ``<name>.last-good``; at start-up
  (which a gunicorn ``kill -HUP`` reload repeats in every new worker) an invalid file gives way
  to that copy, else to the shipped file, with an ERROR log line and an alert in ``/metrics``;
  a reload with an invalid file keeps the rules in force;
- model: a model that cannot be loaded (corrupt, truncated, made by another scikit-learn) gives
  way to the shipped model, with an alert; if that fails too, every call is answered
  ``review`` and waits for a call taker — never a wrong automatic transfer, never a lost call.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from classifier.errors import ModelError
from classifier.predict import REVIEW, Classifier, Prediction
from hotline.domain.calendar import WorkingCalendar
from hotline.domain.text import MAX_TRANSCRIPT_CHARS, clean_text
from hotline.domain.vocabulary import Hotline, Nature, Urgency
from hotline.rules.engine import CallFacts, Classification, RoutingDecision, route
from hotline.rules.schema import RulesError, RuleSet, load_rules
from hotline.services.intake import CallInput


@dataclass(frozen=True)
class Routed:
    prediction: Prediction
    decision: RoutingDecision

    def to_dict(self) -> dict[str, object]:
        p = self.prediction
        return {
            **self.decision.to_dict(),
            "category_level1": p.category_level1,
            "category_level2": p.category_level2,
            "police_type": p.police_type,
            "police_probability": p.police_probability,
            "classifier_decision": p.decision,
            "terms": [term for term, _ in p.explanation],
        }


log = logging.getLogger("hotline.config")

RULES, MODEL = "rules", "model"  # the components a fallback can concern
MODEL_UNAVAILABLE = "分类模型不可用，请人工审核"


class ConfigAlerts:
    """Which configuration is running on a fallback, and why; read by ``/metrics``."""

    def __init__(self) -> None:
        self._alerts: dict[str, str] = {}
        self._lock = threading.Lock()

    def raise_(self, component: str, message: str) -> None:
        with self._lock:
            self._alerts[component] = message
        log.error("ALERT %s: %s", component, message)

    def clear(self, component: str) -> None:
        with self._lock:
            self._alerts.pop(component, None)

    def active(self) -> dict[str, str]:
        with self._lock:
            return dict(self._alerts)


def last_good(path: Path) -> Path:
    return path.with_name(path.name + ".last-good")


def _keep_last_good(path: Path, shipped: Path | None) -> None:
    """Copy a file that just validated to ``<name>.last-good`` (atomically, only if changed)."""
    if shipped is not None and _same_file(path, shipped):
        return  # the shipped file is its own fallback
    copy = last_good(path)
    try:
        data = path.read_bytes()
        if copy.exists() and copy.read_bytes() == data:
            return
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{copy.name}.", suffix=".new")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, copy)
    except OSError as exc:  # a read-only configuration directory: no copy, still running
        log.warning("could not keep %s as the last good rules: %s", copy, exc)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


class RulesHolder:
    """The rules in force, replaced atomically and only by a file that passes validation."""

    def __init__(
        self,
        rules: RuleSet,
        source: Path | None = None,
        *,
        alerts: ConfigAlerts | None = None,
        shipped: Path | None = None,
    ) -> None:
        self._rules, self.source = rules, source
        self.alerts = alerts if alerts is not None else ConfigAlerts()
        self.shipped = shipped
        self._lock = threading.Lock()

    @classmethod
    def start(
        cls,
        path: Path,
        *,
        policies: Collection[str] | None = None,
        shipped: Path | None = None,
        alerts: ConfigAlerts | None = None,
    ) -> RulesHolder:
        """The rules for a starting process: ``path`` if it validates (then kept as the last
        good copy), else its last good copy, else the shipped file, with an alert. Raises
        RulesError only when none of them can be used."""
        alerts = alerts if alerts is not None else ConfigAlerts()
        try:
            rules = load_rules(path, policies=policies)
        except RulesError as exc:
            for candidate in (last_good(path), shipped):
                if candidate is None or not candidate.exists() or _same_file(candidate, path):
                    continue
                try:
                    rules = load_rules(candidate, policies=policies)
                except RulesError:
                    continue
                alerts.raise_(
                    RULES,
                    f"路由规则文件 {path} 无效（{_first_problem(exc)}），"
                    f"已改用 {candidate}；请修正后重新加载",
                )
                return cls(rules, candidate, alerts=alerts, shipped=shipped)
            raise
        _keep_last_good(path, shipped)
        alerts.clear(RULES)
        return cls(rules, path, alerts=alerts, shipped=shipped)

    @property
    def rules(self) -> RuleSet:
        return self._rules

    def reload(
        self,
        path: Path,
        *,
        agencies: Collection[str] | None = None,
        policies: Collection[str] | None = None,
    ) -> RuleSet:
        """Raises RulesError (and keeps the current rules, with an alert) when the file is
        not usable."""
        try:
            candidate = load_rules(path, agencies=agencies, policies=policies)
        except RulesError as exc:
            self.alerts.raise_(
                RULES,
                f"重新加载的路由规则文件 {path} 无效（{_first_problem(exc)}），"
                f"仍沿用 {self.source}",
            )
            raise
        with self._lock:
            self._rules, self.source = candidate, path
        _keep_last_good(path, self.shipped)
        self.alerts.clear(RULES)
        return candidate


def _first_problem(exc: RulesError) -> str:
    more = f" 等 {len(exc.problems)} 处问题" if len(exc.problems) > 1 else ""
    return f"{exc.problems[0]}{more}" if exc.problems else str(exc)


class ReviewOnly:
    """Stands in for a model that cannot be loaded: every call waits for a person."""

    metadata: dict[str, object] = {}
    threshold = 1.0

    def predict(self, text: object) -> Prediction:
        return Prediction(
            decision=REVIEW, police_probability=None, threshold=1.0, reason=MODEL_UNAVAILABLE
        )

    def predict_many(self, texts: list[str]) -> list[Prediction]:
        return [self.predict(t) for t in texts]


def check_model(path: Path, alerts: ConfigAlerts) -> None:
    """At start-up, without the two seconds of unpickling: is the configured model's file
    intact and made with these library versions? If not, alert now rather than at the first
    call (which will then fall back)."""
    from classifier import artifacts

    try:
        meta = artifacts.read_metadata(path)
        artifacts.check_compatible(meta)
        if meta.get("model_sha256") != artifacts.file_sha256(path):
            raise ModelError(f"{path} 与其说明文件不匹配（SHA-256 不同），文件可能已损坏")
    except (ModelError, OSError) as exc:
        alerts.raise_(MODEL, f"分类模型 {path} 无法使用（{exc}），将改用内置模型")


def load_classifier(configured: Path | None, shipped: Path, alerts: ConfigAlerts):
    """The configured model, else the shipped one, else ``ReviewOnly``; any fallback alerts."""
    candidates = [configured] if configured is not None else []
    if configured is None or not _same_file(configured, shipped):
        candidates.append(shipped)
    failures: list[str] = []
    for path in candidates:
        try:
            classifier = Classifier.load(path)
        except Exception as exc:  # a foreign pickle can fail in any way; none may stop us
            failures.append(f"{path}：{type(exc).__name__}: {exc}"[:300])
            continue
        if failures:
            alerts.raise_(MODEL, f"分类模型无法加载（{'；'.join(failures)}），已改用 {path}")
        else:
            alerts.clear(MODEL)
        return classifier
    alerts.raise_(
        MODEL, f"分类模型无法加载（{'；'.join(failures)}），所有来电转人工审核，请尽快处理"
    )
    return ReviewOnly()


class Router:
    def __init__(
        self, classifier: Classifier, rules: RulesHolder | RuleSet, calendar: WorkingCalendar
    ) -> None:
        self.classifier = classifier
        self.holder = rules if isinstance(rules, RulesHolder) else RulesHolder(rules)
        self.calendar = calendar

    def route(
        self,
        text: str,
        received_at: datetime,
        *,
        hotline: str | None = None,
        district: str | None = None,
        nature: str | None = None,
        urgency: str | None = None,
        rules: RuleSet | None = None,
    ) -> Routed:
        prediction = self.classifier.predict(text)
        call = CallFacts(text, received_at, hotline, district, nature, urgency)
        decision = route(
            call, Classification.of(prediction), rules or self.holder.rules, self.calendar
        )
        return Routed(prediction, decision)

    def route_call(self, data: CallInput, at: datetime) -> Routed:
        """Route a call as intake will record it: the same checks first, so a call that could
        never be stored is refused before the classifier spends time on it."""
        text = clean_text(data.transcript, "transcript", max_chars=MAX_TRANSCRIPT_CHARS)
        return self.route(
            text,
            at,
            hotline=Hotline.parse(data.hotline, "hotline").value,
            district=data.district,
            nature=Nature.parse(data.nature, "nature").value,
            urgency=Urgency.parse(data.urgency, "urgency").value,
        )

    def route_many(self, calls: list[CallFacts], rules: RuleSet | None = None) -> list[Routed]:
        """Many calls at once: the classifier works in one batch, in input order."""
        predictions = self.classifier.predict_many([c.text for c in calls])
        ruleset = rules or self.holder.rules
        return [
            Routed(p, route(c, Classification.of(p), ruleset, self.calendar))
            for c, p in zip(calls, predictions, strict=True)
        ]


__all__ = [
    "ConfigAlerts",
    "ReviewOnly",
    "Routed",
    "Router",
    "RulesError",
    "RulesHolder",
    "check_model",
    "load_classifier",
]
