"""KPI counts from the event log, and the rates supervisors are judged on (domain.md §5).

Counts, not rates, are what gets stored: a period's figures are the sum of its days, and a
rate is computed from the summed counts (never averaged), so any figure can be reproduced
from the events behind it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from hotline.domain.clock import ensure_aware
from hotline.domain.lifecycle import Action
from hotline.domain.vocabulary import Direction, Satisfaction

SIGN_FOR_WITHIN = timedelta(hours=24)
# Rankings are unfair on tiny numbers: below this many cases a rate is shown but not ranked.
MIN_VOLUME_FOR_RANKING = 20


@dataclass
class KpiCounts:
    dispatched: int = 0  # 派单 and 重办 received
    signed: int = 0
    signed_on_time: int = 0
    signed_within_24h: int = 0
    returns_requested: int = 0
    returns_approved: int = 0
    extensions_requested: int = 0
    extensions_approved: int = 0
    replied: int = 0
    replied_on_time: int = 0
    resolved: int = 0  # replies saying the matter is resolved
    contacted: int = 0  # replies saying the caller was contacted
    reopened: int = 0
    followed_up: int = 0
    very_satisfied: int = 0
    satisfied: int = 0
    fairly_satisfied: int = 0
    dissatisfied: int = 0
    very_dissatisfied: int = 0
    closed: int = 0
    answered_directly: int = 0
    chased: int = 0
    supervised: int = 0
    criticized: int = 0
    overdue_open: int = 0  # open tickets past their running deadline at the end of the period
    created_in_12345: int = 0
    transferred_110_to_12345: int = 0
    transferred_12345_to_110: int = 0

    def add(self, other: KpiCounts) -> KpiCounts:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KpiCounts:
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in data.items() if k in known})


@dataclass(frozen=True)
class EventFact:
    """What KPIs need of one event; ``direction`` only matters for 受理 (create) events."""

    action: Action
    occurred_at: datetime
    agency_id: int | None
    payload: Mapping[str, Any]
    direction: Direction | None = None


# Keyed by the stored rating value; anything else in a payload is not counted.
_SATISFACTION_FIELD = {
    Satisfaction.VERY_SATISFIED.value: "very_satisfied",
    Satisfaction.SATISFIED.value: "satisfied",
    Satisfaction.FAIRLY_SATISFIED.value: "fairly_satisfied",
    Satisfaction.DISSATISFIED.value: "dissatisfied",
    Satisfaction.VERY_DISSATISFIED.value: "very_dissatisfied",
}
_SIMPLE = {
    Action.DISPATCH: "dispatched",
    Action.REOPEN: "reopened",
    Action.REQUEST_RETURN: "returns_requested",
    Action.APPROVE_RETURN: "returns_approved",
    Action.REQUEST_EXTENSION: "extensions_requested",
    Action.APPROVE_EXTENSION: "extensions_approved",
    Action.CLOSE: "closed",
    Action.ANSWER_DIRECTLY: "answered_directly",
    Action.CHASE: "chased",
    Action.SUPERVISE: "supervised",
    Action.CRITICIZE: "criticized",
}


def count_events(events: Iterable[EventFact]) -> dict[int | None, KpiCounts]:
    """Counts per agency the events concern (None: the hotline centre's own steps)."""
    counts: dict[int | None, KpiCounts] = {}
    for event in events:
        c = counts.setdefault(event.agency_id, KpiCounts())
        name = _SIMPLE.get(event.action)
        if name is not None:
            setattr(c, name, getattr(c, name) + 1)
        if event.action is Action.REOPEN:
            c.dispatched += 1  # a reopened ticket is a new piece of work for the agency
        elif event.action is Action.SIGN_FOR:
            c.signed += 1
            c.signed_on_time += _on_time(event)
            dispatched = _moment(event.payload.get("dispatched_at"))
            if dispatched is not None and event.occurred_at - dispatched <= SIGN_FOR_WITHIN:
                c.signed_within_24h += 1
        elif event.action is Action.REPLY:
            c.replied += 1
            c.replied_on_time += _on_time(event)
            c.resolved += event.payload.get("resolved") is True
            c.contacted += event.payload.get("contacted_caller") is True
        elif event.action is Action.FOLLOW_UP:
            c.followed_up += 1
            rating = event.payload.get("rating")
            field = _SATISFACTION_FIELD.get(rating) if isinstance(rating, str) else None
            if field is not None:
                setattr(c, field, getattr(c, field) + 1)
        elif event.action is Action.CREATE:
            if event.direction is Direction.TO_12345:
                c.transferred_110_to_12345 += 1
            elif event.direction is Direction.TO_110:
                c.transferred_12345_to_110 += 1
            else:
                c.created_in_12345 += 1
    return counts


def rates(c: KpiCounts, *, include_fairly_satisfied: bool = True) -> dict[str, float | None]:
    """The rates of domain.md §5 from summed counts; None where nothing was there to count."""
    rated = c.very_satisfied + c.satisfied + c.fairly_satisfied
    rated += c.dissatisfied + c.very_dissatisfied
    pleased = c.very_satisfied + c.satisfied
    if include_fairly_satisfied:
        pleased += c.fairly_satisfied
    return {
        "on_time_sign_for": _share(c.signed_on_time, c.signed),
        "sign_for_within_24h": _share(c.signed_within_24h, c.signed),
        "on_time_reply": _share(c.replied_on_time, c.replied),
        "resolved": _share(c.resolved, c.replied),
        "return": _share(c.returns_approved, c.dispatched),
        "extension": _share(c.extensions_approved, c.dispatched),
        "reopen": _share(c.reopened, c.dispatched),
        "follow_up": _share(c.followed_up, c.replied),
        "satisfaction": _share(pleased, rated),
    }


def rankable(c: KpiCounts, minimum: int = MIN_VOLUME_FOR_RANKING) -> bool:
    return c.dispatched >= minimum


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _on_time(event: EventFact) -> bool:
    due = _moment(event.payload.get("due_at"))
    return due is not None and event.occurred_at <= due


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return ensure_aware(datetime.fromisoformat(value))
    except ValueError:
        return None
