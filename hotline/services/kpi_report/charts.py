"""Chart data and SVG geometry, computed on the server: no script, nothing from the internet.

Each chart is a list of labelled values (also shown as a table for screen readers and for
anyone who wants the numbers) plus the rectangles the template draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.domain.lifecycle import Action
from hotline.models import Ticket, TicketEvent
from hotline.services.kpi_report.period import Period
from hotline.services.kpi_report.totals import PeriodTotals

UNCLASSIFIED = "未分类"
WIDTH = 640
BAR = 22
GAP = 8
LABEL_WIDTH = 150
SERIES = (
    ("dispatched", "派单", "#2f6fb3"),
    ("replied", "答复", "#3a9a5b"),
    ("overdue", "超期（周末存量）", "#c0392b"),
)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    colour: str = "#2f6fb3"


@dataclass
class Chart:
    title: str
    description: str
    columns: tuple[str, ...]  # the fallback table's header
    table: list[tuple[str, ...]]  # and its rows
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # x (or y) and label
    labels: list[tuple[float, float, str]] = field(default_factory=list)
    legend: tuple[tuple[str, str], ...] = ()
    width: int = WIDTH
    height: int = 0


def horizontal_bars(title: str, description: str, items: list[tuple[str, int]]) -> Chart:
    top = max((v for _, v in items), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 60
    chart = Chart(title, description, ("项目", "数量"), [(k, str(v)) for k, v in items])
    for i, (label, value) in enumerate(items):
        y = i * (BAR + GAP) + GAP
        chart.bars.append(Bar(label, value, LABEL_WIDTH, y, span * value / top, BAR))
        chart.labels.append((LABEL_WIDTH - 6, y + BAR * 0.7, label))
    chart.height = max(len(items), 1) * (BAR + GAP) + GAP
    return chart


def weekly_trend(totals: PeriodTotals) -> Chart:
    """Per ISO week: dispatched and replied (sums of the week's days in the period) and the
    open overdue tickets at the end of the week's last day in the period."""
    weeks: dict[tuple[int, int], dict[str, int]] = {}
    last_day: dict[tuple[int, int], date] = {}
    for day, counts in sorted(totals.city_by_day.items()):
        year, week, _ = day.isocalendar()
        key = (year, week)
        entry = weeks.setdefault(key, {"dispatched": 0, "replied": 0, "overdue": 0})
        entry["dispatched"] += counts.dispatched
        entry["replied"] += counts.replied
        last_day[key] = day
    for key, day in last_day.items():
        weeks[key]["overdue"] = totals.overdue_at_day_end.get(day, 0)
    names = [f"{y}-W{w:02d}" for y, w in weeks]
    table = [
        (n, *(str(weeks[k][s]) for s, _, _ in SERIES)) for n, k in zip(names, weeks, strict=True)
    ]
    chart = Chart(
        "按周趋势（ISO 周）",
        "每个 ISO 周的派单数、答复数，以及该周（在统计区间内的）最后一天结束时的超期存量。",
        ("周", *(label for _, label, _ in SERIES)),
        table,
        legend=tuple((label, colour) for _, label, colour in SERIES),
    )
    plot_height, bottom = 200, 230
    top = max((v for w in weeks.values() for v in w.values()), default=0) or 1
    group = (WIDTH - 60) / max(len(weeks), 1)
    bar = min(24.0, (group - 10) / len(SERIES))
    for i, key in enumerate(weeks):
        for j, (series, _label, colour) in enumerate(SERIES):
            value = weeks[key][series]
            h = plot_height * value / top
            x = 50 + i * group + j * bar
            chart.bars.append(Bar(f"{names[i]} {_label}", value, x, bottom - h, bar - 2, h, colour))
        chart.labels.append((50 + i * group + bar * len(SERIES) / 2, bottom + 16, names[i]))
    chart.ticks = [(bottom - plot_height * f, str(round(top * f))) for f in (0, 0.5, 1)]
    chart.height = bottom + 30
    return chart


def category_mix(db: Session, period: Period) -> Chart:
    """Tickets created in the period by first-level category (受理 events in the window)."""
    category = sa.func.coalesce(Ticket.category_level1, UNCLASSIFIED)
    rows = db.execute(
        sa.select(category, sa.func.count())
        .select_from(TicketEvent)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            TicketEvent.action == Action.CREATE,
            TicketEvent.occurred_at >= period.start,
            TicketEvent.occurred_at < period.end,
        )
        .group_by(category)
    ).all()
    items = sorted(((str(k), int(n)) for k, n in rows), key=lambda kv: (-kv[1], kv[0]))
    return horizontal_bars(
        "受理工单分类构成", "统计区间内受理（新建）的工单按一级分类计数。", items
    )
