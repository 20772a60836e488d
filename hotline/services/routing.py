"""Classify and route: the classifier's reading of a call, then the city's rules.

A ``Router`` holds the loaded model and rules; both are read-only after loading, so one router
serves every request of a process. ``RulesHolder`` swaps in new rules only when they validate:
a bad file leaves the rules in force and says why.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from classifier.predict import Classifier, Prediction
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


class RulesHolder:
    """The rules in force, replaced atomically and only by a file that passes validation."""

    def __init__(self, rules: RuleSet, source: Path | None = None) -> None:
        self._rules, self.source = rules, source
        self._lock = threading.Lock()

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
        """Raises RulesError (and keeps the current rules) when the file is not usable."""
        candidate = load_rules(path, agencies=agencies, policies=policies)
        with self._lock:
            self._rules, self.source = candidate, path
        return candidate


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


__all__ = ["Routed", "Router", "RulesError", "RulesHolder"]
