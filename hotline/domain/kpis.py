"""KPI counts from the event log, and the rates supervisors are judged on (domain.md §5).

Counts, not rates, are what gets stored: a period's figures are the sum of its days, and a
rate is computed from the summed counts (never averaged), so any figure can be reproduced
from the events behind it. ``event_increments`` says what one event adds to which count: the
daily freeze sums it, and a drill-down keeps exactly the events it names for a count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from hotline.domain.clock import ensure_aware
from hotline.domain.lifecycle import Action
from hotline.domain.vocabulary import Direction, Hotline, Satisfaction

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
    replied_late: int = 0  # replies after a known deadline: 超期答复件数
    resolved: int = 0  # replies saying the matter is resolved
    contacted: int = 0  # replies saying the caller was contacted
    handling_seconds: int = 0  # dispatch -> reply, summed over the replies that know dispatch
    handling_count: int = 0
    reopened: int = 0
    followed_up: int = 0
    very_satisfied: int = 0
    satisfied: int = 0
    fairly_satisfied: int = 0
    dissatisfied: int = 0
    very_dissatisfied: int = 0
    closed: int = 0
    closed_on_time: int = 0  # closures whose last reply met its (possibly extended) deadline
    answered_directly: int = 0
    chased: int = 0
    supervised: int = 0
    criticized: int = 0
    # A stock, not a flow: open tickets past their running deadline when the day was frozen.
    # A period takes its last day's value (see STOCK_FIELDS), never the sum of its days.
    overdue_open: int = 0
    created_in_12345: int = 0
    transferred_110_to_12345: int = 0
    transferred_12345_to_110: int = 0
    non_police_110: int = 0  # 110 calls judged non-police (分流率 denominator)
    diverted_110: int = 0  # of those, transferred to 12345 (分流率 numerator)

    def add(self, other: KpiCounts) -> KpiCounts:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KpiCounts:
        """Snapshots frozen before a count existed read it as 0."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in data.items() if k in known})


STOCK_FIELDS = frozenset({"overdue_open"})
FLOW_FIELDS = tuple(f.name for f in fields(KpiCounts) if f.name not in STOCK_FIELDS)


@dataclass(frozen=True)
class EventFact:
    """What KPIs need of one event. ``direction`` and ``non_police_110`` only matter for 受理
    (create) events; a 办结 (close) event's payload carries its last reply's ``replied_at``
    and ``reply_due_at``, looked up by the service."""

    action: Action
    occurred_at: datetime
    agency_id: int | None
    payload: Mapping[str, Any]
    direction: Direction | None = None
    non_police_110: bool = False


def is_non_police_110(
    hotline: Hotline | str,
    direction: Direction | str,
    classifier_decision: object,
    confirmed_police: object,
) -> bool:
    """A 110 call counts as non-police when it went to 12345 (the decision that counts), or
    stayed with 110 although the call taker's confirmed reading, else the classifier's
    reading at intake, says non-police."""
    if Hotline(hotline) is not Hotline.POLICE_110:
        return False
    if Direction(direction) is Direction.TO_12345:
        return True
    if isinstance(confirmed_police, bool):
        return not confirmed_police
    return classifier_decision == "non_police"


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

# Which actions can add to each count: lets a drill-down ask the database for few events.
FIELD_ACTIONS: Mapping[str, frozenset[Action]] = {
    **{name: frozenset({action}) for action, name in _SIMPLE.items()},
    "dispatched": frozenset({Action.DISPATCH, Action.REOPEN}),
    "closed_on_time": frozenset({Action.CLOSE}),
    **{
        name: frozenset({Action.SIGN_FOR})
        for name in ("signed", "signed_on_time", "signed_within_24h")
    },
    **{
        name: frozenset({Action.REPLY})
        for name in (
            "replied",
            "replied_on_time",
            "replied_late",
            "resolved",
            "contacted",
            "handling_seconds",
            "handling_count",
        )
    },
    **{
        name: frozenset({Action.FOLLOW_UP})
        for name in ("followed_up", *_SATISFACTION_FIELD.values())
    },
    **{
        name: frozenset({Action.CREATE})
        for name in (
            "created_in_12345",
            "transferred_110_to_12345",
            "transferred_12345_to_110",
            "non_police_110",
            "diverted_110",
        )
    },
}


def event_increments(event: EventFact) -> dict[str, int]:
    """What one event adds to which count (all 1 but ``handling_seconds``)."""
    out: dict[str, int] = {}
    name = _SIMPLE.get(event.action)
    if name is not None:
        out[name] = 1
    payload = event.payload
    if event.action is Action.REOPEN:
        out["dispatched"] = 1  # a reopened ticket is a new piece of work for the agency
    elif event.action is Action.SIGN_FOR:
        out["signed"] = 1
        _flag(out, "signed_on_time", _before_due(event.occurred_at, payload.get("due_at")))
        dispatched = _moment(payload.get("dispatched_at"))
        within = dispatched is not None and event.occurred_at - dispatched <= SIGN_FOR_WITHIN
        _flag(out, "signed_within_24h", within)
    elif event.action is Action.REPLY:
        out["replied"] = 1
        on_time = _before_due(event.occurred_at, payload.get("due_at"))
        _flag(out, "replied_on_time", on_time)
        _flag(out, "replied_late", on_time is False)
        _flag(out, "resolved", payload.get("resolved") is True)
        _flag(out, "contacted", payload.get("contacted_caller") is True)
        dispatched = _moment(payload.get("dispatched_at"))
        if dispatched is not None and dispatched <= event.occurred_at:
            out["handling_count"] = 1
            seconds = int((event.occurred_at - dispatched).total_seconds())
            out["handling_seconds"] = seconds
    elif event.action is Action.CLOSE:
        replied = _moment(payload.get("replied_at"))
        on_time = replied is not None and _before_due(replied, payload.get("reply_due_at"))
        _flag(out, "closed_on_time", on_time)
    elif event.action is Action.FOLLOW_UP:
        out["followed_up"] = 1
        rating = payload.get("rating")
        field = _SATISFACTION_FIELD.get(rating) if isinstance(rating, str) else None
        if field is not None:
            out[field] = 1
    elif event.action is Action.CREATE:
        if event.direction is Direction.TO_12345:
            out["transferred_110_to_12345"] = 1
        elif event.direction is Direction.TO_110:
            out["transferred_12345_to_110"] = 1
        else:
            out["created_in_12345"] = 1
        if event.non_police_110:
            out["non_police_110"] = 1
            _flag(out, "diverted_110", event.direction is Direction.TO_12345)
    return out


def count_events(events: Iterable[EventFact]) -> dict[int | None, KpiCounts]:
    """Counts per agency the events concern (None: the hotline centre's own steps)."""
    counts: dict[int | None, KpiCounts] = {}
    for event in events:
        c = counts.setdefault(event.agency_id, KpiCounts())
        for name, amount in event_increments(event).items():
            setattr(c, name, getattr(c, name) + amount)
    return counts


@dataclass(frozen=True)
class RateDef:
    """One rate: numerator and denominator are sums of counts, so both can be drilled into."""

    key: str
    label: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    definition: str  # 口径: shown on the page, word for word
    higher_is_better: bool = True


_DISPATCHED = ("dispatched",)
_RATED = ("very_satisfied", "satisfied", "fairly_satisfied", "dissatisfied", "very_dissatisfied")


def rate_defs(*, include_fairly_satisfied: bool = True) -> tuple[RateDef, ...]:
    """The report's rates in column order. Every count is of events in the period that concern
    the agency (for 派单: the agency dispatched to; for 退单: the agency that gave it back)."""
    pleased = ("very_satisfied", "satisfied")
    if include_fairly_satisfied:
        pleased += ("fairly_satisfied",)
    pleased_words = "非常满意+满意" + ("+基本满意" if include_fairly_satisfied else "")
    return (
        RateDef(
            "on_time_sign_for",
            "按时签收率",
            ("signed_on_time",),
            ("signed",),
            "时限内签收的次数 ÷ 签收次数",
        ),
        RateDef(
            "sign_for_within_24h",
            "24小时签收率",
            ("signed_within_24h",),
            ("signed",),
            "派单后 24 小时内签收的次数 ÷ 签收次数",
        ),
        RateDef(
            "on_time_closure",
            "按时办结率",
            ("closed_on_time",),
            ("closed",),
            "办结的工单中，最近一次答复不晚于（含延期后的）办理时限的件数 ÷ 办结次数",
        ),
        RateDef("closure", "办结率", ("closed",), _DISPATCHED, "办结次数 ÷ 派单次数（含重办）"),
        RateDef(
            "on_time_reply",
            "按时答复率",
            ("replied_on_time",),
            ("replied",),
            "不晚于（含延期后的）办理时限的答复次数 ÷ 答复次数",
        ),
        RateDef(
            "return",
            "退单率",
            ("returns_approved",),
            _DISPATCHED,
            "同意退单次数 ÷ 派单次数（含重办）",
            higher_is_better=False,
        ),
        RateDef(
            "extension",
            "延期率",
            ("extensions_approved",),
            _DISPATCHED,
            "同意延期次数 ÷ 派单次数（含重办）",
            higher_is_better=False,
        ),
        RateDef(
            "reopen",
            "重办率",
            ("reopened",),
            _DISPATCHED,
            "重办次数 ÷ 派单次数（含重办）",
            higher_is_better=False,
        ),
        RateDef(
            "satisfaction",
            "满意率",
            pleased,
            _RATED,
            f"回访评价为{pleased_words}的次数 ÷ 有五级评价的回访次数",
        ),
        RateDef(
            "resolved", "解决率", ("resolved",), ("replied",), "答复注明已解决的次数 ÷ 答复次数"
        ),
        RateDef("follow_up", "回访率", ("followed_up",), ("replied",), "回访次数 ÷ 答复次数"),
        RateDef(
            "diversion",
            "分流率",
            ("diverted_110",),
            ("non_police_110",),
            "110 受理的非警情中转 12345 的件数 ÷ 110 受理的非警情件数"
            "（非警情：已转 12345，或留在 110 但坐席确认/分类器判为非警情）",
        ),
    )


def rates(c: KpiCounts, *, include_fairly_satisfied: bool = True) -> dict[str, float | None]:
    """The rates of ``rate_defs`` from summed counts; None where nothing was there to count."""
    out: dict[str, float | None] = {}
    for d in rate_defs(include_fairly_satisfied=include_fairly_satisfied):
        out[d.key] = _share(total(c, d.numerator), total(c, d.denominator))
    return out


def average_handling_hours(c: KpiCounts) -> float | None:
    """Mean dispatch -> reply time in hours over the replies that know their dispatch."""
    return c.handling_seconds / c.handling_count / 3600 if c.handling_count else None


def total(c: KpiCounts, names: Iterable[str]) -> int:
    return sum(getattr(c, name) for name in names)


def rankable(c: KpiCounts, minimum: int = MIN_VOLUME_FOR_RANKING) -> bool:
    return c.dispatched >= minimum


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _flag(out: dict[str, int], name: str, condition: bool | None) -> None:
    if condition:
        out[name] = 1


def _before_due(at: datetime, due_raw: object) -> bool | None:
    """On time, late, or None when no deadline is known."""
    due = _moment(due_raw)
    return None if due is None else at <= due


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return ensure_aware(datetime.fromisoformat(value))
    except ValueError:
        return None
