"""The KPI table: one row per agency plus the city, ranked fairly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.domain.errors import ValidationError
from hotline.domain.kpis import (
    MIN_VOLUME_FOR_RANKING,
    KpiCounts,
    RateDef,
    average_handling_hours,
    rankable,
    rate_defs,
    rates,
)
from hotline.domain.vocabulary import AgencyKind
from hotline.models import Agency
from hotline.services.kpi_report.period import Period
from hotline.services.kpi_report.totals import PeriodTotals, period_totals
from hotline.services.reports import CITY, overdue_counts, scope_of

CITY_NAME = "全市"
DEFAULT_RANK_BY = "on_time_reply"


@dataclass
class KpiRow:
    scope: str
    agency_id: int | None  # None: the city row
    name: str
    counts: KpiCounts
    rates: dict[str, float | None]
    average_handling_hours: float | None
    overdue_now: int  # open tickets past their running deadline right now
    rankable: bool
    rank: int | None = None


@dataclass
class KpiTable:
    period: Period
    rate_defs: tuple[RateDef, ...]
    rank_by: RateDef
    include_fairly_satisfied: bool
    rows: list[KpiRow]  # agencies, ranked first, then the ones with too few cases
    city: KpiRow
    totals: PeriodTotals
    minimum_volume: int = MIN_VOLUME_FOR_RANKING


def rank_by_def(key: str | None, defs: Sequence[RateDef]) -> RateDef:
    wanted = key or DEFAULT_RANK_BY
    for d in defs:
        if d.key == wanted:
            return d
    allowed = "、".join(f"{d.key}({d.label})" for d in defs)
    raise ValidationError("rank", f"未知的排名指标“{wanted}”，可选：{allowed}")


def kpi_table(
    db: Session,
    period: Period,
    now: datetime,
    *,
    rank_by: str | None = None,
    include_fairly_satisfied: bool = True,
) -> KpiTable:
    defs = rate_defs(include_fairly_satisfied=include_fairly_satisfied)
    chosen = rank_by_def(rank_by, defs)
    totals = period_totals(db, period, now)
    overdue = overdue_counts(db, now)
    agencies = db.scalars(sa.select(Agency).order_by(Agency.code)).all()

    def row(scope: str, agency_id: int | None, name: str, overdue_now: int) -> KpiRow:
        counts = totals.counts(scope)
        return KpiRow(
            scope,
            agency_id,
            name,
            counts,
            rates(counts, include_fairly_satisfied=include_fairly_satisfied),
            average_handling_hours(counts),
            overdue_now,
            rankable(counts),
        )

    rows = [
        row(scope_of(a.id), a.id, a.name, overdue.get(a.id, 0))
        for a in agencies
        if scope_of(a.id) in totals.by_scope
        or overdue.get(a.id)
        or (a.is_active and a.kind is not AgencyKind.HOTLINE_CENTER)
    ]
    city = row(CITY, None, CITY_NAME, sum(overdue.values()))
    city.rankable = False
    return KpiTable(
        period,
        defs,
        chosen,
        include_fairly_satisfied,
        rank_rows(rows, chosen),
        city,
        totals,
    )


def rank_rows(rows: list[KpiRow], by: RateDef) -> list[KpiRow]:
    """1, 2, 2, 4 … among rows with enough cases and a value; the others follow unranked."""
    scored = [r for r in rows if r.rankable and r.rates[by.key] is not None]
    sign = -1 if by.higher_is_better else 1
    scored.sort(key=lambda r: (sign * (r.rates[by.key] or 0.0), r.name))
    previous: float | None = None
    for position, r in enumerate(scored, start=1):
        value = r.rates[by.key]
        if value != previous:
            r.rank, previous = position, value
        else:
            r.rank = scored[position - 2].rank
    rest = sorted((r for r in rows if r.rank is None), key=lambda r: (not r.rankable, r.name))
    return scored + rest
