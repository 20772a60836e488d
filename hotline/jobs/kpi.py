"""The daily job: freeze yesterday's KPI counts (and any day a stopped scheduler missed)."""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy.orm import Session

from hotline.services.reports import days_to_freeze, freeze_day

log = logging.getLogger("hotline.scheduler")


def freeze_pending_days(db: Session, now: datetime) -> list[date]:
    """One transaction per day, so a crash keeps the days already frozen."""
    frozen = []
    for day in list(days_to_freeze(db, now)):
        written = freeze_day(db, day, now)
        db.commit()
        if written:
            frozen.append(day)
    db.rollback()
    if frozen:
        log.info("kpi snapshot frozen for %s", ", ".join(d.isoformat() for d in frozen))
    return frozen
