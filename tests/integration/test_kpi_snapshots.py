"""The daily KPI freeze on a real database: hand-computed counts, once per day, no gaps."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from hotline.domain.clock import CHINA_TZ
from hotline.jobs.kpi import freeze_pending_days
from hotline.models import KpiSnapshot
from hotline.services import tickets as svc
from hotline.services.reports import CITY, days_to_freeze, freeze_day, period_counts, scope_of

DAY = date(2026, 3, 10)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


def snapshot(db, scope: str, day: date = DAY) -> dict[str, int]:
    return db.scalars(
        sa.select(KpiSnapshot.counts).where(KpiSnapshot.day == day, KpiSnapshot.scope == scope)
    ).one()


def make_day(city) -> None:
    """Tuesday 10 March: three tickets to 住建局; one signed and replied, one left unsigned
    on a two-hour utility clock (overdue by midnight), one untouched on a 1-day clock."""
    city.replied()  # dispatched 09:30, signed 10:00, replied 13:00
    svc.dispatch(
        city.ctx(city.taker), city.new_ticket().id, lead_agency="housing", deadline_policy="utility"
    )
    city.dispatched()


def test_a_day_is_frozen_with_hand_computed_counts(city, db) -> None:
    make_day(city)
    assert freeze_day(db, DAY, local(2026, 3, 11, 0, 15)) == 3  # housing, centre, city
    housing = snapshot(db, scope_of(city.housing.id))
    assert housing["dispatched"] == 3
    assert (housing["signed"], housing["signed_on_time"], housing["signed_within_24h"]) == (
        1,
        1,
        1,
    )
    assert (housing["replied"], housing["replied_on_time"], housing["resolved"]) == (1, 1, 1)
    assert housing["overdue_open"] == 1
    centre = snapshot(db, "centre")
    assert centre["created_in_12345"] == 3 and centre["dispatched"] == 0
    assert snapshot(db, CITY)["dispatched"] == 3


def test_freezing_twice_writes_nothing_and_a_stopped_scheduler_catches_up(city, db) -> None:
    make_day(city)
    db.commit()
    assert freeze_pending_days(db, local(2026, 3, 11, 0, 15)) == [DAY]
    assert freeze_pending_days(db, local(2026, 3, 11, 0, 16)) == []
    assert freeze_day(db, DAY, local(2026, 3, 11, 0, 17)) == 0
    # Down for two days: the next start freezes both, in order, and nothing twice.
    assert list(days_to_freeze(db, local(2026, 3, 13, 8))) == [date(2026, 3, 11), date(2026, 3, 12)]
    assert freeze_pending_days(db, local(2026, 3, 13, 8)) == [date(2026, 3, 11), date(2026, 3, 12)]
    totals = period_counts(db, DAY, date(2026, 3, 12))
    assert totals[CITY].dispatched == 3 and totals[CITY].replied == 1
    count = db.scalar(sa.select(sa.func.count()).select_from(KpiSnapshot))
    assert count == 3 + 2 * 2  # day 1: housing, centre, city; quiet days: housing (overdue), city


def test_the_new_counts_are_frozen_and_old_snapshots_read_them_as_zero(city, db) -> None:
    """Handling time and on-time closure come from the reply (dispatched_at, due_at) and the
    close (its last reply); a snapshot frozen before those counts existed reads them as 0."""
    ticket = city.replied()  # dispatched 09:30, replied 13:00: 3.5 h
    ctx = city.ctx(city.supervisor)
    svc.review_reply(ctx, ticket.id, approve=True)
    svc.follow_up(city.ctx(city.taker), ticket.id, rating="satisfied")
    svc.close(ctx, ticket.id)
    freeze_day(db, DAY, local(2026, 3, 11, 0, 15))
    housing = snapshot(db, scope_of(city.housing.id))
    assert (housing["handling_seconds"], housing["handling_count"]) == (3 * 3600 + 1800, 1)
    assert (housing["closed"], housing["closed_on_time"], housing["replied_late"]) == (1, 1, 0)
    # Monday's snapshot, frozen before the new counts existed.
    db.add(
        KpiSnapshot(
            day=date(2026, 3, 9),
            scope=CITY,
            agency_id=None,
            counts={"closed": 2},
            frozen_at=local(2026, 3, 10, 0, 15),
        )
    )
    db.flush()
    totals = period_counts(db, date(2026, 3, 9), DAY)[CITY]
    assert (totals.closed, totals.closed_on_time, totals.handling_count) == (3, 1, 1)
