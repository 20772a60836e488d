"""Supervisor reports: overdue list, KPI table, charts, drill-down, CSV / Excel export."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")
