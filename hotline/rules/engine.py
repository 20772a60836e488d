"""The routing engine: a pure function from a call, its classification, the rules and the time
to a destination, with the rules that fired and an explanation a call taker can read.

Safety rules run first and all of them are evaluated: the first that matches decides, and no
later rule can undo it (danger goes to police first, 先行派警). Otherwise the first matching
ordinary rule decides; nothing matching means the file's default (human review).

Then the police-first guarantee (``police_first``), which no rules file can switch off: when
the classifier reads the call as police with a strong probability, an ordinary rule or the
default may not send it away from 110. The call goes to 110, as joint handling when the rule
named a 12345 agency (110 dispatches now, that agency co-handles the rest: 联动处置), and an
emergency line gets 110 beside it (a safety rule's too). When the classifier reads police but
is unsure (between its recall threshold and the strong level), a 12345 destination becomes a
review with a three-party call (三方通话), so nothing that may be police is diverted without
a person.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any

from classifier.normalise import has_chinese
from classifier.tokenize import word_boundaries
from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import to_local
from hotline.domain.vocabulary import Urgency
from hotline.rules.schema import (
    STRONG_POLICE_PROBABILITY,
    Action,
    Decision,
    Keyword,
    Match,
    PoliceFirst,
    Rule,
    RuleSet,
    normalise,
)


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
    # Set when the police-first guarantee changed the rules' outcome: "strong" (sent to 110)
    # or "unsure" (held for review with a three-party call).
    police_first: str | None = None

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
            "police_first": self.police_first,
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
        decided = _decision(
            chosen.action, [r.id for r, _ in fired], chosen, chosen_reasons, note, rules
        )
        # A safety rule never keeps a call from 110, but an emergency line alone might.
        return police_first(decided, chosen.action, classification)
    for rule in rules.rules:
        reasons = _matches(rule.match, facts)
        if reasons is not None:
            decided = _decision(rule.action, [rule.id], rule, reasons, "", rules)
            return police_first(decided, rule.action, classification)
    decided = _decision(rules.default, [], None, [], "", rules)
    return police_first(decided, rules.default, classification)


def police_first(decided: RoutingDecision, action: Action, c: Classification) -> RoutingDecision:
    """The engine's guarantee over any ordinary rule or default: see the module docstring."""
    p = c.police_probability
    if p is None or not action.sends_away_from_police:
        return decided
    reading = f"分类器判为警情（概率 {p:.2f}"
    if p >= STRONG_POLICE_PROBABILITY:
        reading += f" ≥ {STRONG_POLICE_PROBABILITY:.2f}）"
        # Police dispatch is at least urgent; a rule's 特急 stays.
        priority = Urgency.CRITICAL if decided.priority == Urgency.CRITICAL else Urgency.URGENT
        if action.decision is Decision.EMERGENCY:
            return replace(
                decided,
                also=(*decided.also, "110"),
                priority=priority.value,
                police_first="strong",
                explanation=f"{decided.explanation}；警情优先：{reading}，同时由 110 派警",
            )
        agencies = tuple(t for t in (action.destination, *action.also) if t.startswith("12345:"))
        joint = bool(agencies) and action.police_first is PoliceFirst.JOINT
        if joint:
            names = "、".join(t.split(":", 1)[1] for t in agencies)
            outcome = f"110 先行派警，{names} 协办其余事项（联动处置）"
        else:
            outcome = "改由 110 派警"
        return replace(
            decided,
            decision=Decision.JOINT if joint else Decision.POLICE,
            destination="110",
            also=agencies if joint else (),
            lead_agency=agencies[0].split(":", 1)[1] if joint else None,
            assisting=decided.assisting if joint else (),
            informed=decided.informed if joint else (),
            three_party_call=False,
            priority=priority.value,
            police_first="strong",
            explanation=f"{decided.explanation}；警情优先：{reading}，{outcome}",
        )
    if c.decision != "police" or action.decision is Decision.EMERGENCY:
        return decided  # an emergency line is never held back on an unsure reading
    reading += f"，低于 {STRONG_POLICE_PROBABILITY:.2f}，把握不大）"
    if action.decision is Decision.REVIEW and action.destination == "review":
        if decided.three_party_call:
            return decided
        return replace(
            decided,
            three_party_call=True,
            police_first="unsure",
            explanation=f"{decided.explanation}；{reading}：需三方通话确认归属",
        )
    return replace(
        decided,
        decision=Decision.REVIEW,
        destination="review",
        also=(),
        lead_agency=None,
        assisting=(),
        informed=(),
        three_party_call=True,
        police_first="unsure",
        explanation=(
            f"{decided.explanation}；但{reading}，不直接转走：人工研判，需三方通话确认归属"
        ),
    )


class _Facts:
    def __init__(
        self, text: str, call: CallFacts, c: Classification, time_of_day: Any, day_type: str
    ) -> None:
        self.text, self.call, self.c = text, call, c
        self.time_of_day, self.day_type = time_of_day, day_type

    @cached_property
    def boundaries(self) -> frozenset[int]:
        """Where jieba's words start and end; segmented only if a keyword asks for it."""
        return word_boundaries(self.text)

    @cached_property
    def pauses(self) -> frozenset[int]:
        """Where the caller paused; worked out only once a keyword occurs in the text."""
        return pauses(self.call.text)


def pauses(raw: str) -> frozenset[int]:
    """Where a space stood between two Chinese characters, as offsets in ``normalise(raw)``.

    A call taker types a space where the caller paused, in place of a comma: 我拒绝了还打 我要投诉
    holds no 打我. The compared text drops spaces (an ASCII word may be spaced either way), so
    the pauses are kept apart and a keyword may not run across one."""
    folded = unicodedata.normalize("NFKC", raw or "").casefold()
    found: set[int] = set()
    kept, previous, pending = 0, "", False
    for char in folded:
        if char == " ":
            pending = True
            continue
        if pending and has_chinese(previous) and has_chinese(char):
            found.add(kept)
        pending, previous, kept = False, char, kept + 1
    return frozenset(found)


def _occurrences(text: str, word: str) -> list[int]:
    starts, at = [], text.find(word)
    while at >= 0:
        starts.append(at)
        at = text.find(word, at + 1)
    return starts


def _covered(text: str, phrases: list[str], word: str) -> set[int]:
    """Starts of the occurrences of ``word`` that lie inside an occurrence of a phrase."""
    starts: set[int] = set()
    for phrase in phrases:
        offsets = _occurrences(phrase, word)
        for at in _occurrences(text, phrase):
            starts.update(at + offset for offset in offsets)
    return starts


def _keyword_found(k: Keyword, f: _Facts, excluded: tuple[str, ...]) -> bool:
    p = f.c.police_probability
    if k.min_police_probability is not None and p is not None and p < k.min_police_probability:
        return False
    starts = _occurrences(f.text, k.word)
    if not starts:
        return False
    phrases = [x for x in (*k.exceptions, *excluded) if k.word in x]
    cancelled = _covered(f.text, phrases, k.word) if phrases else set()
    for start in starts:
        if start in cancelled or any(start < at < start + len(k.word) for at in f.pauses):
            continue
        if k.boundary and not {start, start + len(k.word)} <= f.boundaries:
            continue
        return True
    return False


def _regex_found(pattern: re.Pattern[str], f: _Facts, excluded: tuple[str, ...]) -> str | None:
    phrases = [x for x in excluded if pattern.search(x)]
    spans = [(at, at + len(x)) for x in phrases for at in _occurrences(f.text, x)]
    for found in pattern.finditer(f.text):
        if not any(a <= found.start() and found.end() <= b for a, b in spans):
            return found.group(0)
    return None


def _vetoed(m: Match, f: _Facts) -> bool:
    """A keywords_none phrase vetoes the rule when it is in the text and holds none of the
    rule's keywords or patterns (those it holds only cancel the occurrences inside it)."""
    words = [k.word for k in m.keywords_any] + [k.word for alts in m.keywords_all for k in alts]
    for phrase in m.keywords_none:
        if phrase not in f.text:
            continue
        if any(w in phrase for w in words) or any(p.search(phrase) for p in m.regex):
            continue
        return True
    return False


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
    if m.keywords_none and _vetoed(m, f):
        return None
    excluded = m.keywords_none
    if m.keywords_any:
        hit = next((k for k in m.keywords_any if _keyword_found(k, f, excluded)), None)
        if hit is None:
            return None
        reasons.append(f"关键词“{hit}”")
    for alternatives in m.keywords_all:
        hit = next((k for k in alternatives if _keyword_found(k, f, excluded)), None)
        if hit is None:
            return None
        reasons.append(f"关键词“{hit}”")
    for pattern in m.regex:
        found = _regex_found(pattern, f, excluded)
        if found is None:
            return None
        reasons.append(f"匹配“{found[:20]}”")
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
