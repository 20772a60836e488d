"""Frozen KPI figures: one row per day and scope, written once by the daily job."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hotline.models.base import Base, JSONType


class KpiSnapshot(Base):
    """The counts behind every KPI for one local day, per agency (scope ``agency:<id>``) and for
    the whole city (scope ``city``). Counts, not rates, so any period is a sum of days; frozen
    so a report for last month reads the same next year whatever happens to the tickets."""

    __tablename__ = "kpi_snapshots"
    __table_args__ = (sa.UniqueConstraint("day", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    scope: Mapped[str] = mapped_column(sa.String(24))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType)
    frozen_at: Mapped[datetime]
