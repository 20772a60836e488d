"""Working-day arithmetic and the dispatch clocks, on fixed dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import CHINA_TZ
from hotline.domain.deadlines import (
    Extension,
    Pause,
    choose_policy,
    compute_deadlines,
    default_policies,
    dispatch_deadlines,
    extend,
    next_due,
)
from hotline.domain.lifecycle import TicketState
from hotline.domain.policies import ClockRule, Policy, Start, Unit, load_policies, parse_policies
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


def test_urgent_tickets_are_due_the_same_day_and_critical_ones_in_two_hours() -> None:
    start = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)  # a Saturday: urgent clocks ignore weekends
    urgent = dispatch_deadlines(start, Urgency.URGENT, Nature.HELP, PLAIN)
    assert urgent.sign_for_due_at == start + timedelta(minutes=30)
    assert urgent.reply_due_at == local(2026, 3, 14, 23, 59, 59)  # 当日: Beijing's day
    critical = dispatch_deadlines(start, Urgency.CRITICAL, Nature.HELP, PLAIN)
    assert critical.sign_for_due_at == start + timedelta(minutes=30)
    assert critical.reply_due_at == start + timedelta(hours=2)


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


# --- named policies, recomputed from stored facts -------------------------------------------

GENERAL = default_policies().get("general")


def test_the_shipped_policy_file_says_what_the_built_in_defaults_say() -> None:
    shipped = load_policies(Path(__file__).parents[2] / "deadline_policies.yaml")
    assert shipped == default_policies()


@pytest.mark.parametrize(
    ("urgency", "nature", "expected"),
    [
        (Urgency.NORMAL, Nature.HELP, "general"),
        (Urgency.NORMAL, Nature.COMPLAINT, "complaint"),
        (Urgency.NORMAL, Nature.REPORT, "complaint"),
        (Urgency.URGENT, Nature.COMPLAINT, "urgent"),
        (Urgency.CRITICAL, Nature.HELP, "emergency"),
        (Urgency.NORMAL, None, "general"),
    ],
)
def test_urgency_then_nature_choose_the_default_policy(
    urgency: Urgency, nature: Nature | None, expected: str
) -> None:
    assert choose_policy(default_policies(), urgency, nature) == expected


def test_a_city_without_an_urgent_policy_falls_back_to_its_default() -> None:
    only_general = parse_policies(
        {
            "default": "general",
            "policies": {"general": {"clocks": {"reply": {"amount": 5, "unit": "working_days"}}}},
        }
    )
    assert choose_policy(only_general, Urgency.CRITICAL, Nature.COMPLAINT) == "general"
    # No sign-for clock configured: signing is due by the reply deadline.
    due = compute_deadlines(only_general.get("general"), local(2026, 3, 10, 9), PLAIN)
    assert due.sign_for_due_at == due.reply_due_at == local(2026, 3, 17, 23, 59, 59)


def test_a_handling_clock_that_starts_at_sign_for_waits_for_it() -> None:
    policy = Policy(
        "sign_start",
        "",
        {
            "sign_for": ClockRule(1, Unit.WORKING_DAYS),
            "reply": ClockRule(3, Unit.WORKING_DAYS, starts_at=Start.SIGN_FOR),
        },
    )
    dispatched = local(2026, 3, 10, 9)
    waiting = compute_deadlines(policy, dispatched, PLAIN)
    assert waiting.reply_due_at is None
    signed = compute_deadlines(policy, dispatched, PLAIN, signed_at=local(2026, 3, 11, 17))
    assert signed.reply_due_at == local(2026, 3, 16, 23, 59, 59)  # Thu, Fri, Mon


def test_extensions_and_pauses_replay_in_order_across_national_day() -> None:
    cn = WorkingCalendar.chinese()
    # Thursday 24 Sep; Friday 25 Sep is Mid-Autumn Festival, 1-7 Oct National Day.
    dispatched = local(2026, 9, 24, 10)
    plain = compute_deadlines(GENERAL, dispatched, cn)
    assert plain.sign_for_due_at == local(2026, 9, 28, 23, 59, 59)
    assert plain.reply_due_at == local(2026, 10, 9, 23, 59, 59)  # 28, 29, 30 Sep, 8, 9 Oct
    changes = [
        Extension(local(2026, 9, 28, 10), 2),  # 9 Oct + 2 WD: 10 (Saturday 调休), 12 Oct
        Pause(local(2026, 9, 29, 10), local(2026, 10, 9, 10)),
    ]
    due = compute_deadlines(GENERAL, dispatched, cn, adjustments=changes)
    # Paused 29 Sep with 30 Sep, 8, 9, 10, 12 Oct left (5 WD); resumed 9 Oct: 10, 12-15 Oct.
    assert due.reply_due_at == local(2026, 10, 15, 23, 59, 59)
    # An open pause stops the clock where it stood; the resumption moves it.
    open_pause = [changes[0], Pause(local(2026, 9, 29, 10), None)]
    assert compute_deadlines(GENERAL, dispatched, cn, adjustments=open_pause).reply_due_at == (
        local(2026, 10, 12, 23, 59, 59)
    )
