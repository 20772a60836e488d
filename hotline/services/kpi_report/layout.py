"""The KPI table's columns, shared by the page and the exports so they cannot disagree."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hotline.domain.kpis import RateDef, total
from hotline.services.kpi_report.export import Cell
from hotline.services.kpi_report.table import KpiRow, KpiTable


@dataclass(frozen=True)
class Column:
    label: str
    kind: str  # count | rate | hours | overdue_now
    measures: tuple[str, ...] = ()  # count: the counts summed (and drilled into)
    rate: RateDef | None = None
    city_only: bool = False  # figures of the hotline centre's intake: only the city has them
    definition: str = ""


def columns(table: KpiTable) -> list[Column]:
    by_key = {d.key: d for d in table.rate_defs}
    cols = [Column("派单次数", "count", ("dispatched",), definition="派单与重办次数（分母）")]
    cols += [Column(d.label, "rate", rate=d, definition=d.definition) for d in table.rate_defs]
    cols = [c for c in cols if c.rate is None or c.rate.key != "diversion"]
    cols += [
        Column(
            "平均办理时长（小时）",
            "hours",
            ("handling_count",),
            definition="答复时间 − 派单（或重办）时间，按答复次数平均；只计记录了派单时间的答复",
        ),
        Column(
            "超期答复件数",
            "count",
            ("replied_late",),
            definition="晚于（含延期后的）办理时限的答复次数",
        ),
        Column(
            "当前超期件数",
            "overdue_now",
            definition="此刻仍未办结、已过当前时限的工单数（与超期清单一致，不随统计区间变化）",
        ),
        Column(
            "分流率",
            "rate",
            rate=by_key["diversion"],
            city_only=True,
            definition=by_key["diversion"].definition,
        ),
        Column(
            "110转12345",
            "count",
            ("transferred_110_to_12345",),
            city_only=True,
            definition="受理方向为 110转12345 的工单数",
        ),
        Column(
            "12345转110",
            "count",
            ("transferred_12345_to_110",),
            city_only=True,
            definition="受理方向为 12345转110 的工单数",
        ),
    ]
    return cols


def value(column: Column, row: KpiRow) -> float | int | None:
    if column.city_only and row.agency_id is not None:
        return None
    if column.kind == "count":
        return total(row.counts, column.measures)
    if column.kind == "rate":
        assert column.rate is not None
        return row.rates[column.rate.key]
    if column.kind == "hours":
        return None if row.average_handling_hours is None else round(row.average_handling_hours, 2)
    return row.overdue_now


def fraction(column: Column, row: KpiRow) -> tuple[int, int]:
    """A rate column's numerator and denominator for the row."""
    assert column.rate is not None
    return total(row.counts, column.rate.numerator), total(row.counts, column.rate.denominator)


def export_header(table: KpiTable) -> list[str]:
    header = ["单位", f"排名（{table.rank_by.label}）", "参与排名"]
    for c in columns(table):
        header.append(c.label)
        if c.kind == "rate":
            header += [f"{c.label}·分子", f"{c.label}·分母"]
    return header


def export_rows(table: KpiTable) -> Iterator[list[Cell]]:
    for row in [*table.rows, table.city]:
        out: list[Cell] = [row.name, row.rank, _ranking_note(table, row)]
        for c in columns(table):
            v = value(c, row)
            out.append(v)
            if c.kind == "rate":
                assert c.rate is not None
                shown = not (c.city_only and row.agency_id is not None)
                out += [
                    total(row.counts, c.rate.numerator) if shown else None,
                    total(row.counts, c.rate.denominator) if shown else None,
                ]
        yield out


def percent_columns(table: KpiTable) -> set[int]:
    found, index = set(), 3
    for c in columns(table):
        if c.kind == "rate":
            found.add(index)
            index += 3
        else:
            index += 1
    return found


def _ranking_note(table: KpiTable, row: KpiRow) -> str:
    if row.agency_id is None:
        return "—"
    if not row.rankable:
        return "样本不足，不参与排名"
    return "是" if row.rank is not None else "无可比数据"
