"""The official Chinese working calendar (2026 data), city overrides, and the fallback past it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.calendar import WorkingCalendar, official_data
from hotline.domain.clock import CHINA_TZ
from hotline.domain.deadlines import dispatch_deadlines, extend
from hotline.domain.errors import ValidationError
from hotline.domain.vocabulary import Nature, Urgency

CN = WorkingCalendar.chinese()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


def test_national_day_2026_and_its_make_up_saturday() -> None:
    assert not any(CN.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert CN.is_working_day(date(2026, 10, 10))  # Saturday, 调休
    assert CN.is_working_day(date(2026, 9, 20))  # Sunday, 调休
    # Dispatched the afternoon before the holiday: sign-for is due when work resumes.
    due = dispatch_deadlines(local(2026, 9, 30, 15, 0), Urgency.NORMAL, Nature.HELP, CN)
    assert due.sign_for_due_at.astimezone(CHINA_TZ).date() == date(2026, 10, 8)
    # Five working days: 8, 9, 10 (Saturday), 12, 13.
    assert due.reply_due_at.astimezone(CHINA_TZ).date() == date(2026, 10, 13)


def test_spring_festival_2026() -> None:
    assert not any(CN.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert CN.is_working_day(date(2026, 2, 14)) and CN.is_working_day(date(2026, 2, 28))
    due = dispatch_deadlines(local(2026, 2, 13, 10, 0), Urgency.NORMAL, Nature.HELP, CN)
    assert due.sign_for_due_at.astimezone(CHINA_TZ).date() == date(2026, 2, 14)
    assert due.reply_due_at.astimezone(CHINA_TZ).date() == date(2026, 2, 27)


def test_an_extension_across_the_holiday() -> None:
    moved = extend(local(2026, 9, 30, 23, 59, 59), 3, CN)
    assert moved == local(2026, 10, 10, 23, 59, 59)


def test_year_boundary_into_2027_falls_back_to_weekends_and_overrides() -> None:
    assert official_data().last_year == 2026
    # 2026-12-30 is a Wednesday. Without 2027 data, 1 January 2027 (Friday) counts as a
    # working day unless the city says otherwise.
    start = local(2026, 12, 30, 9, 0)
    plain = dispatch_deadlines(start, Urgency.NORMAL, Nature.HELP, CN)
    assert plain.reply_due_at.astimezone(CHINA_TZ).date() == date(2027, 1, 6)
    city = WorkingCalendar.chinese(holidays=[date(2027, 1, 1)])
    with_override = dispatch_deadlines(start, Urgency.NORMAL, Nature.HELP, city)
    assert with_override.reply_due_at.astimezone(CHINA_TZ).date() == date(2027, 1, 7)
    assert city.is_working_day(date(2027, 1, 4)) and not city.is_working_day(date(2027, 1, 2))


def test_city_overrides_win_over_official_data() -> None:
    city = WorkingCalendar.chinese(holidays=[date(2026, 10, 10)], workdays=[date(2026, 10, 7)])
    assert not city.is_working_day(date(2026, 10, 10))
    assert city.is_working_day(date(2026, 10, 7))


def test_a_day_cannot_be_both_holiday_and_make_up_day() -> None:
    with pytest.raises(ValidationError, match="2027-01-02 同时被配置为节假日和调休工作日"):
        WorkingCalendar.chinese(holidays=[date(2027, 1, 2)], workdays=[date(2027, 1, 2)])


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 3, 1), None),
        (date(2026, 11, 22), "将于 2026-12-31 到期"),
        (date(2027, 1, 5), "只到 2026 年"),
    ],
)
def test_administrators_are_warned_before_the_data_runs_out(today, expected) -> None:
    warnings = CN.warnings(today)
    if expected is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and expected in warnings[0]
    assert WorkingCalendar().warnings(today) == []


days = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))


@given(start=days, n=st.integers(min_value=1, max_value=25))
def test_working_day_arithmetic_lands_on_working_days_and_counts_exactly(start, n) -> None:
    result = CN.add_working_days(start, n)
    assert CN.is_working_day(result)
    counted = sum(
        CN.is_working_day(start + timedelta(days=i)) for i in range(1, (result - start).days + 1)
    )
    assert counted == n


@given(
    start=st.dates(min_value=date(1995, 1, 1), max_value=date(2045, 12, 31)), n=st.integers(0, 40)
)
def test_the_lookup_gives_the_same_answers_as_counting_day_by_day(start, n) -> None:
    city = WorkingCalendar.chinese(holidays=[date(2027, 1, 1)], workdays=[date(2027, 2, 6)])
    assert city.add_working_days(start, n) == city._add_working_days_slowly(start, n)
