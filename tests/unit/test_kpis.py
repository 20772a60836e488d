"""KPI counts from hand-written events, and rates checked against hand-computed values."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from hotline.domain.clock import CHINA_TZ
from hotline.domain.kpis import EventFact, KpiCounts, count_events, rankable, rates
from hotline.domain.lifecycle import Action
from hotline.domain.vocabulary import Direction

T = datetime(2026, 3, 10, 9, 0, tzinfo=CHINA_TZ)
HOUSING, URBAN = 1, 2


def ev(action: Action, hours: float, agency: int | None = HOUSING, **payload) -> EventFact:
    direction = payload.pop("direction", None)
    return EventFact(action, T + timedelta(hours=hours), agency, payload, direction)


def due(hours: float) -> str:
    return (T + timedelta(hours=hours)).isoformat()


EVENTS = [
    ev(Action.CREATE, 0, None, direction=Direction.TO_12345),
    ev(Action.CREATE, 0, None, direction=Direction.INTERNAL),
    ev(Action.CREATE, 0, None, direction=Direction.TO_110),
    ev(Action.ANSWER_DIRECTLY, 1, None),
    ev(Action.DISPATCH, 0),
    ev(Action.DISPATCH, 0),
    ev(Action.DISPATCH, 0),
    ev(Action.DISPATCH, 0, URBAN),
    # on time, within 24 h / late but within 24 h / late and after 24 h / no deadline known
    ev(Action.SIGN_FOR, 2, due_at=due(10), dispatched_at=due(0)),
    ev(Action.SIGN_FOR, 12, due_at=due(10), dispatched_at=due(0)),
    ev(Action.SIGN_FOR, 30, due_at=due(10), dispatched_at=due(0)),
    ev(Action.SIGN_FOR, 3, URBAN),
    ev(Action.REQUEST_EXTENSION, 40),
    ev(Action.APPROVE_EXTENSION, 41),
    ev(Action.REPLY, 50, due_at=due(60), resolved=True, contacted_caller=True),
    ev(Action.REPLY, 70, due_at=due(60), resolved=False, contacted_caller=True),
    ev(Action.FOLLOW_UP, 80, rating="very_satisfied"),
    ev(Action.FOLLOW_UP, 81, rating="fairly_satisfied"),
    ev(Action.FOLLOW_UP, 82, rating="dissatisfied"),
    ev(Action.FOLLOW_UP, 83, rating="no-such-rating"),
    ev(Action.REOPEN, 90),
    ev(Action.REQUEST_RETURN, 5, URBAN),
    ev(Action.APPROVE_RETURN, 6, URBAN),
    ev(Action.CLOSE, 85),
    ev(Action.CHASE, 61),
    ev(Action.CRITICIZE, 200),
]


def test_counts_per_agency() -> None:
    counts = count_events(EVENTS)
    housing = counts[HOUSING]
    assert (housing.dispatched, housing.reopened) == (4, 1)  # 3 dispatches + 1 reopen
    assert (housing.signed, housing.signed_on_time, housing.signed_within_24h) == (3, 1, 2)
    assert (housing.replied, housing.replied_on_time, housing.resolved) == (2, 1, 1)
    assert housing.followed_up == 4
    assert (housing.very_satisfied, housing.fairly_satisfied, housing.dissatisfied) == (1, 1, 1)
    assert (housing.extensions_requested, housing.extensions_approved) == (1, 1)
    assert (housing.closed, housing.chased, housing.criticized) == (1, 1, 1)
    urban = counts[URBAN]
    assert (urban.dispatched, urban.signed, urban.signed_on_time) == (1, 1, 0)
    assert (urban.returns_requested, urban.returns_approved) == (1, 1)
    centre = counts[None]
    assert centre.answered_directly == 1
    assert (centre.transferred_110_to_12345, centre.transferred_12345_to_110) == (1, 1)
    assert centre.created_in_12345 == 1


def test_rates_from_hand_computed_counts() -> None:
    r = rates(count_events(EVENTS)[HOUSING])
    assert r["on_time_sign_for"] == pytest.approx(1 / 3)
    assert r["sign_for_within_24h"] == pytest.approx(2 / 3)
    assert r["on_time_reply"] == pytest.approx(1 / 2)
    assert r["satisfaction"] == pytest.approx(2 / 3)  # 非常满意 + 基本满意 of 3 rated
    assert r["reopen"] == pytest.approx(1 / 4)
    strict = rates(count_events(EVENTS)[HOUSING], include_fairly_satisfied=False)
    assert strict["satisfaction"] == pytest.approx(1 / 3)
    assert rates(KpiCounts())["on_time_sign_for"] is None  # nothing to count is not 0 %


def test_periods_sum_counts_and_survive_a_round_trip() -> None:
    day = count_events(EVENTS)[HOUSING]
    twice = KpiCounts().add(day).add(KpiCounts.from_dict(day.as_dict()))
    assert twice.signed == 6 and twice.signed_on_time == 2
    assert rates(twice)["on_time_sign_for"] == pytest.approx(1 / 3)  # summed, not averaged
    assert not rankable(day) and rankable(twice, minimum=8)
