"""A period's counts: frozen days from kpi_snapshots, the days not frozen yet from the log.

The daily job freezes each day shortly after midnight, so a month's report reads about thirty
small rows per scope plus today's events: fast at a million tickets. A day missing from the
snapshots (today, or days a stopped scheduler has not caught up on) is counted live from
the same event log the freeze reads, so the figure is the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.domain.clock import to_local
from hotline.domain.kpis import FLOW_FIELDS, KpiCounts
from hotline.models import KpiSnapshot
from hotline.services.kpi_report.period import Period
from hotline.services.reports import (
    CITY,
    day_bounds,
    overdue_counts,
    range_counts,
    scope_of,
)


@dataclass
class PeriodTotals:
    period: Period
    by_scope: dict[str, KpiCounts]  # agency:<id>, centre and city: flow counts summed
    city_by_day: dict[date, KpiCounts]  # the city's counts per day, for the weekly trend
    overdue_at_day_end: dict[date, int]  # the city's open overdue tickets when each day ended
    frozen_days: list[date] = field(default_factory=list)
    live_days: list[date] = field(default_factory=list)

    def counts(self, scope: str) -> KpiCounts:
        return self.by_scope.get(scope, KpiCounts())


def flows(counts: KpiCounts) -> KpiCounts:
    """Only the counts that add up over days (a stock such as overdue_open does not)."""
    return KpiCounts(**{name: getattr(counts, name) for name in FLOW_FIELDS})


def period_totals(db: Session, period: Period, now: datetime) -> PeriodTotals:
    today = to_local(now).date()
    totals = PeriodTotals(period, {}, {}, {})
    rows = db.execute(
        sa.select(KpiSnapshot.day, KpiSnapshot.scope, KpiSnapshot.counts).where(
            KpiSnapshot.day >= period.first, KpiSnapshot.day <= period.last
        )
    )
    frozen: set[date] = set()
    for day, scope, raw in rows:
        counts = KpiCounts.from_dict(raw)
        totals.by_scope.setdefault(scope, KpiCounts()).add(flows(counts))
        if scope == CITY:
            frozen.add(day)
            totals.city_by_day[day] = flows(counts)
            totals.overdue_at_day_end[day] = counts.overdue_open
    totals.frozen_days = sorted(frozen)
    for day in period.days():
        if day in frozen or day > today:
            continue
        totals.live_days.append(day)
        start, end = day_bounds(day)
        city = KpiCounts()
        for agency_id, counts in range_counts(db, start, end).items():
            totals.by_scope.setdefault(scope_of(agency_id), KpiCounts()).add(counts)
            city.add(counts)
        totals.by_scope.setdefault(CITY, KpiCounts()).add(city)
        totals.city_by_day[day] = city
        # Today's backlog is the one now; a past day not frozen yet is read as the freeze
        # would read it.
        at = now if day == today else end
        totals.overdue_at_day_end[day] = sum(overdue_counts(db, at).values())
    return totals
