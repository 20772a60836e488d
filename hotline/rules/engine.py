"""The routing engine: a pure function from a call, its classification, the rules and the time
to a destination, with the rules that fired and an explanation a call taker can read.

Safety rules run first and all of them are evaluated: the first that matches decides, and no
later rule can undo it (danger goes to police first, 先行派警). Otherwise the first matching
ordinary rule decides; nothing matching means the file's default (human review).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import to_local
from hotline.rules.schema import Action, Decision, Match, Rule, RuleSet, normalise


@dataclass(frozen=True)
class CallFacts:
    text: str
    received_at: datetime
    hotline: str | None = None  # "110" / "12345": where the call came in
    district: str | None = None
    nature: str | None = None
    urgency: str | None = None


@dataclass(frozen=True)
class Classification:
    """What the classifier said (hotline.rules does not import the classifier itself)."""

    decision: str  # police / non_police / review
    police_probability: float | None = None
    police_type: str | None = None
    category_level1: str | None = None
    category_level2: str | None = None

    @classmethod
    def of(cls, prediction: Any) -> Classification:
        return cls(
            decision=prediction.decision,
            police_probability=prediction.police_probability,
            police_type=prediction.police_type,
            category_level1=prediction.category_level1,
            category_level2=prediction.category_level2,
        )


@dataclass(frozen=True)
class RoutingDecision:
    decision: Decision
    destination: str
    also: tuple[str, ...]
    lead_agency: str | None
    assisting: tuple[str, ...]
    informed: tuple[str, ...]
    three_party_call: bool
    priority: str | None
    deadline_policy: str | None
    rules: tuple[str, ...]
    explanation: str
    reasons: tuple[str, ...] = field(default=(), compare=False)
    rules_version: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision.value,
            "destination": self.destination,
            "also": list(self.also),
            "lead_agency": self.lead_agency,
            "assisting": list(self.assisting),
            "informed": list(self.informed),
            "three_party_call": self.three_party_call,
            "priority": self.priority,
            "deadline_policy": self.deadline_policy,
            "rules": list(self.rules),
            "rules_version": self.rules_version,
            "explanation": self.explanation,
        }


# What each destination is called, in explanations and on the desk.
DESTINATION_LABELS = {
    "110": "110 指挥中心派警",
    "119": "119 消防联动",
    "120": "120 急救联动",
    "122": "122 交通事故联动",
    "12345": "12345 派单（由派单员指定承办单位）",
    "review": "人工研判",
}


def route(
    call: CallFacts,
    classification: Classification,
    rules: RuleSet,
    calendar: WorkingCalendar,
) -> RoutingDecision:
    text = normalise(call.text)
    moment = to_local(call.received_at)
    day_type = "working_day" if calendar.is_working_day(moment.date()) else "rest_day"
    facts = _Facts(text, call, classification, moment.time(), day_type)
    fired: list[tuple[Rule, list[str]]] = []
    for rule in rules.safety_rules:
        reasons = _matches(rule.match, facts)
        if reasons is not None:
            fired.append((rule, reasons))
    if fired:
        chosen, chosen_reasons = fired[0]
        others = [r.id for r, _ in fired[1:]]
        note = f"（另有安全规则 {'、'.join(others)} 命中）" if others else ""
        return _decision(
            chosen.action, [r.id for r, _ in fired], chosen, chosen_reasons, note, rules
        )
    for rule in rules.rules:
        reasons = _matches(rule.match, facts)
        if reasons is not None:
            return _decision(rule.action, [rule.id], rule, reasons, "", rules)
    return _decision(rules.default, [], None, [], "", rules)


@dataclass(frozen=True)
class _Facts:
    text: str
    call: CallFacts
    c: Classification
    time_of_day: Any
    day_type: str


def _matches(m: Match, f: _Facts) -> list[str] | None:
    """The reasons a rule matches, or None as soon as one condition fails."""
    reasons: list[str] = []
    c = f.c
    if m.decision:
        if c.decision not in m.decision:
            return None
        reasons.append(f"分类器判定为{_DECISION_LABEL.get(c.decision, c.decision)}")
    if m.min_probability is not None or m.max_probability is not None:
        p = c.police_probability
        if p is None:
            return None
        if m.min_probability is not None and p < m.min_probability:
            return None
        if m.max_probability is not None and p > m.max_probability:
            return None
        reasons.append(f"警情概率 {p:.2f}")
    if m.police_type:
        if c.police_type not in m.police_type:
            return None
        reasons.append(f"警情类型“{c.police_type}”")
    if m.category:
        path = f"{c.category_level1}/{c.category_level2}"
        hit = next(
            (x for x in (path, c.category_level2, c.category_level1) if x in m.category), None
        )
        if hit is None:
            return None
        reasons.append(f"分类“{hit}”")
    if m.keywords_any:
        hit = next((k for k in m.keywords_any if k in f.text), None)
        if hit is None:
            return None
        reasons.append(f"关键词“{hit}”")
    for alternatives in m.keywords_all:
        hit = next((k for k in alternatives if k in f.text), None)
        if hit is None:
            return None
        reasons.append(f"关键词“{hit}”")
    for word in m.keywords_none:
        if word in f.text:
            return None
    for pattern in m.regex:
        found = pattern.search(f.text)
        if found is None:
            return None
        reasons.append(f"匹配“{found.group(0)[:20]}”")
    for values, actual, label in (
        (m.hotline, f.call.hotline, "来电渠道"),
        (m.district, f.call.district, "区域"),
        (m.nature, f.call.nature, "性质"),
        (m.urgency, f.call.urgency, "紧急程度"),
    ):
        if values:
            if actual not in values:
                return None
            reasons.append(f"{label} {actual}")
    if m.time_of_day is not None:
        if not m.time_of_day.contains(f.time_of_day):
            return None
        reasons.append(f"来电时间 {f.time_of_day:%H:%M}")
    if m.day_type:
        if f.day_type not in m.day_type:
            return None
        reasons.append("工作日" if f.day_type == "working_day" else "休息日")
    return reasons


_DECISION_LABEL = {"police": "警情", "non_police": "非警情", "review": "需人工研判"}


def _decision(
    action: Action,
    rule_ids: list[str],
    rule: Rule | None,
    reasons: list[str],
    note: str,
    rules: RuleSet,
) -> RoutingDecision:
    target = _target_label(action.destination)
    extra = "；同时" + "、".join(_target_label(a) for a in action.also) if action.also else ""
    if rule is None:
        explanation = f"没有规则命中，按默认处置：{target}"
    else:
        kind = "安全规则" if rule.safety else "规则"
        why = "，".join(reasons) if reasons else "无条件"
        title = f"（{rule.description}）" if rule.description else ""
        explanation = f"{kind} {rule.id}{title}命中：{why} → {target}{extra}{note}"
    if action.three_party_call:
        explanation += "；需三方通话确认归属"
    return RoutingDecision(
        decision=action.decision,
        destination=action.destination,
        also=action.also,
        lead_agency=action.lead_agency,
        assisting=action.assisting,
        informed=action.informed,
        three_party_call=action.three_party_call,
        priority=action.priority.value if action.priority else None,
        deadline_policy=action.deadline_policy,
        rules=tuple(rule_ids),
        explanation=explanation,
        reasons=tuple(reasons),
        rules_version=rules.version,
    )


def _target_label(target: str) -> str:
    if target.startswith("12345:"):
        return f"12345 派单至 {target.split(':', 1)[1]}"
    return DESTINATION_LABELS.get(target, target)
