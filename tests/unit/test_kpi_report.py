"""Pure report logic: periods, overdue buckets in working days, ranking, export safety."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import CHINA_TZ
from hotline.domain.errors import ValidationError
from hotline.domain.kpis import (
    EventFact,
    KpiCounts,
    event_increments,
    is_non_police_110,
    rate_defs,
    rates,
)
from hotline.domain.lifecycle import Action
from hotline.domain.vocabulary import Direction
from hotline.services.kpi_report.export import content_disposition, neutralise, to_csv
from hotline.services.kpi_report.overdue import WorkingDaysLate, bucket_of, parse_bucket
from hotline.services.kpi_report.period import Period, parse_period
from hotline.services.kpi_report.table import KpiRow, rank_rows

TODAY = date(2026, 3, 11)


def test_the_default_period_is_this_month_up_to_today() -> None:
    assert parse_period(None, None, TODAY) == Period(date(2026, 3, 1), TODAY)
    assert parse_period("2026-01-01", "2026-01-31", TODAY) == Period(
        date(2026, 1, 1), date(2026, 1, 31)
    )
    assert len(list(Period(date(2025, 2, 5), date(2026, 3, 11)).days())) == 400
    parse_period("2025-02-05", "2026-03-11", TODAY)  # exactly 400 days is allowed


@pytest.mark.parametrize(
    ("raw_from", "raw_to", "field"),
    [
        ("2026-02-30", None, "from"),
        ("20260301", None, "from"),
        ("2026-03-01", "next week", "to"),
        ("2026-03-10", "2026-03-01", "to"),
        ("2025-02-04", "2026-03-11", "to"),  # 401 days
    ],
)
def test_bad_periods_are_refused_by_field(raw_from, raw_to, field) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_period(raw_from, raw_to, TODAY)
    assert caught.value.field == field


def test_days_late_count_working_days_after_the_deadline_day() -> None:
    calendar = WorkingCalendar()  # weekends only
    friday_9am = datetime(2026, 3, 13, 9, tzinfo=CHINA_TZ)
    late = WorkingDaysLate(calendar, friday_9am + timedelta(hours=8))
    assert late(friday_9am) == 0  # due this morning: still "1 天内"
    monday = WorkingDaysLate(calendar, datetime(2026, 3, 16, 10, tzinfo=CHINA_TZ))
    assert monday(friday_9am) == 1  # the weekend does not count
    assert monday(datetime(2026, 3, 6, 17, tzinfo=CHINA_TZ)) == 6
    holiday = WorkingCalendar.with_overrides(holidays=[date(2026, 3, 16)])
    assert WorkingDaysLate(holiday, datetime(2026, 3, 16, 10, tzinfo=CHINA_TZ))(friday_9am) == 0


@pytest.mark.parametrize(
    ("days", "bucket"), [(0, "lt1"), (1, "1-3"), (2, "1-3"), (3, "3-5"), (4, "3-5"), (5, "5+")]
)
def test_buckets_have_no_gaps_or_overlaps(days, bucket) -> None:
    assert bucket_of(days).key == bucket
    assert parse_bucket(bucket) == bucket_of(days)


def row(name: str, dispatched: int, returns: int) -> KpiRow:
    counts = KpiCounts(dispatched=dispatched, returns_approved=returns)
    return KpiRow(f"agency:{name}", 1, name, counts, rates(counts), None, 0, dispatched >= 20)


def test_ranking_shares_places_on_ties_and_skips_thin_agencies() -> None:
    by_return = next(d for d in rate_defs() if d.key == "return")  # lower is better
    rows = [row("甲", 40, 4), row("乙", 20, 2), row("丙", 25, 0), row("丁", 19, 0), row("戊", 0, 0)]
    ranked = rank_rows(rows, by_return)
    assert [(r.name, r.rank) for r in ranked] == [
        ("丙", 1),
        ("乙", 2),  # 10 % like 甲: same place
        ("甲", 2),
        ("丁", None),  # 0 % but only 19 dispatches: shown, not ranked
        ("戊", None),
    ]


def test_satisfaction_toggle_changes_only_the_numerator() -> None:
    counts = KpiCounts(very_satisfied=1, satisfied=1, fairly_satisfied=1, dissatisfied=1)
    assert rates(counts)["satisfaction"] == pytest.approx(3 / 4)
    assert rates(counts, include_fairly_satisfied=False)["satisfaction"] == pytest.approx(2 / 4)


T = datetime(2026, 3, 10, 9, tzinfo=CHINA_TZ)


def test_a_close_is_on_time_when_its_last_reply_met_the_deadline() -> None:
    on_time = {"replied_at": T.isoformat(), "reply_due_at": (T + timedelta(hours=1)).isoformat()}
    late = {"replied_at": T.isoformat(), "reply_due_at": (T - timedelta(hours=1)).isoformat()}
    close = Action.CLOSE
    assert event_increments(EventFact(close, T, 1, on_time)) == {"closed": 1, "closed_on_time": 1}
    assert event_increments(EventFact(close, T, 1, late)) == {"closed": 1}
    assert event_increments(EventFact(close, T, 1, {})) == {"closed": 1}


def test_handling_time_runs_from_dispatch_to_reply() -> None:
    payload = {"dispatched_at": (T - timedelta(hours=30)).isoformat(), "due_at": T.isoformat()}
    got = event_increments(EventFact(Action.REPLY, T, 1, payload))
    assert got["handling_seconds"] == 30 * 3600 and got["handling_count"] == 1
    assert got["replied_on_time"] == 1 and "replied_late" not in got
    old = event_increments(EventFact(Action.REPLY, T, 1, {}))  # before replies recorded it
    assert "handling_count" not in old and "replied_late" not in old


def test_non_police_110_calls() -> None:
    assert is_non_police_110("110", Direction.TO_12345, "police", None)  # the decision counts
    assert is_non_police_110("110", Direction.INTERNAL, "non_police", None)
    assert not is_non_police_110("110", Direction.INTERNAL, "non_police", True)  # confirmed police
    assert is_non_police_110("110", Direction.INTERNAL, "police", False)
    assert not is_non_police_110("110", Direction.INTERNAL, "review", None)
    assert not is_non_police_110("12345", Direction.INTERNAL, "non_police", None)
    fact = EventFact(Action.CREATE, T, None, {}, Direction.TO_12345, non_police_110=True)
    assert event_increments(fact) == {
        "transferred_110_to_12345": 1,
        "non_police_110": 1,
        "diverted_110": 1,
    }


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_neutralised(text) -> None:
    assert neutralise(text) == "'" + text


def test_plain_text_and_numbers_stay_as_they_are() -> None:
    assert neutralise("住建局") == "住建局" and neutralise("a=b") == "a=b"
    assert neutralise(-3) == -3 and neutralise(0.5) == 0.5 and neutralise(None) is None
    body = to_csv(["单位", "数"], [["=cmd", -1]])
    assert body.startswith("\ufeff".encode()) and "'=cmd,-1" in body.decode("utf-8-sig")


def test_content_disposition_names_the_file_in_ascii_and_utf8() -> None:
    header = content_disposition("KPI统计 3月.csv", "kpi.csv")
    assert header == (
        "attachment; filename=\"kpi.csv\"; filename*=UTF-8''KPI%E7%BB%9F%E8%AE%A1%203%E6%9C%88.csv"
    )
