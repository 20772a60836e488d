"""Supervisor reports: the KPI table over a period, the overdue list, charts, drill-down and
exports. Reads only: every figure comes from kpi_snapshots and the event log."""

from hotline.services.kpi_report.drill import Drill, event_drill, overdue_drill
from hotline.services.kpi_report.overdue import BUCKETS, overdue_groups, overdue_tickets
from hotline.services.kpi_report.period import MAX_PERIOD_DAYS, Period, parse_period
from hotline.services.kpi_report.table import KpiRow, KpiTable, kpi_table

__all__ = [
    "BUCKETS",
    "MAX_PERIOD_DAYS",
    "Drill",
    "KpiRow",
    "KpiTable",
    "Period",
    "event_drill",
    "kpi_table",
    "overdue_drill",
    "overdue_groups",
    "overdue_tickets",
    "parse_period",
]
