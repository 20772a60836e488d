"""Working-day arithmetic and the dispatch clocks, on fixed dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import CHINA_TZ
from hotline.domain.deadlines import dispatch_deadlines, extend, next_due
from hotline.domain.lifecycle import TicketState
from hotline.domain.vocabulary import Nature, Urgency

PLAIN = WorkingCalendar()
# National Day 2026: 10-01..10-07 off; Saturday 10-10 is a make-up workday (调休).
NATIONAL_DAY = WorkingCalendar.with_overrides(
    holidays=[date(2026, 10, d) for d in range(1, 8)], workdays=[date(2026, 10, 10)]
)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 3, 10), 1, date(2026, 3, 11)),  # Tue -> Wed
        (date(2026, 3, 13), 1, date(2026, 3, 16)),  # Fri -> Mon
        (date(2026, 3, 14), 1, date(2026, 3, 16)),  # Sat -> Mon
        (date(2026, 3, 10), 5, date(2026, 3, 17)),
        (date(2026, 3, 10), 0, date(2026, 3, 10)),
    ],
)
def test_add_working_days_skips_weekends(start: date, days: int, expected: date) -> None:
    assert PLAIN.add_working_days(start, days) == expected


def test_holidays_are_skipped_and_make_up_saturday_counts() -> None:
    assert NATIONAL_DAY.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert NATIONAL_DAY.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert NATIONAL_DAY.is_working_day(date(2026, 10, 10))
    assert not NATIONAL_DAY.is_working_day(date(2026, 10, 5))


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        PLAIN.add_working_days(date(2026, 1, 1), -1)


dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(start=dates, days=st.integers(min_value=1, max_value=30))
def test_result_is_a_working_day_after_start(start: date, days: int) -> None:
    result = NATIONAL_DAY.add_working_days(start, days)
    assert result > start
    assert NATIONAL_DAY.is_working_day(result)
    counted = sum(
        NATIONAL_DAY.is_working_day(start + timedelta(days=i))
        for i in range(1, (result - start).days + 1)
    )
    assert counted == days


@given(start=dates, a=st.integers(0, 20), b=st.integers(0, 20))
def test_more_days_never_end_earlier(start: date, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert PLAIN.add_working_days(start, low) <= PLAIN.add_working_days(start, high)


def test_normal_ticket_clocks_start_at_dispatch() -> None:
    dispatched = local(2026, 3, 13, 16, 0)  # Friday afternoon
    due = dispatch_deadlines(dispatched, Urgency.NORMAL, Nature.HELP, PLAIN)
    assert due.sign_for_due_at == local(2026, 3, 16, 23, 59, 59)
    assert due.reply_due_at == local(2026, 3, 20, 23, 59, 59)
    assert due.reply_due_at.tzinfo is not None


def test_complaints_get_fifteen_working_days() -> None:
    due = dispatch_deadlines(local(2026, 3, 10, 9, 0), Urgency.NORMAL, Nature.COMPLAINT, PLAIN)
    assert due.reply_due_at.astimezone(CHINA_TZ).date() == date(2026, 3, 31)


@pytest.mark.parametrize(
    ("urgency", "reply_after"),
    [(Urgency.URGENT, timedelta(hours=24)), (Urgency.CRITICAL, timedelta(hours=2))],
)
def test_urgent_clocks_run_in_hours(urgency: Urgency, reply_after: timedelta) -> None:
    start = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)  # a Saturday: urgent clocks ignore weekends
    due = dispatch_deadlines(start, urgency, Nature.HELP, PLAIN)
    assert due.sign_for_due_at == start + timedelta(minutes=30)
    assert due.reply_due_at == start + reply_after


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        dispatch_deadlines(datetime(2026, 3, 10, 9), Urgency.NORMAL, Nature.HELP, PLAIN)


def test_extension_moves_by_working_days_keeping_time_of_day() -> None:
    assert extend(local(2026, 3, 13, 23, 59, 59), 3, PLAIN) == local(2026, 3, 18, 23, 59, 59)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (TicketState.DISPATCHED, "sign"),
        (TicketState.SIGNED, "reply"),
        (TicketState.IN_PROGRESS, "reply"),
        (TicketState.EXTENSION_REQUESTED, "reply"),
        (TicketState.SUSPENSION_REQUESTED, "reply"),
        (TicketState.SUSPENDED, None),
        (TicketState.RETURNED, None),
        (TicketState.REPLIED, None),
        (TicketState.CLOSED, None),
    ],
)
def test_next_due_follows_the_clock_the_agency_works_against(state, expected) -> None:
    sign, reply = local(2026, 3, 11, 23, 59), local(2026, 3, 17, 23, 59)
    assert next_due(state, sign, reply) == {"sign": sign, "reply": reply, None: None}[expected]
