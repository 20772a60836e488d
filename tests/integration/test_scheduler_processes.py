"""Two scheduler processes against one PostgreSQL database: every alert exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from hotline.domain.clock import FixedClock
from hotline.domain.lifecycle import Action
from hotline.models import TicketAlert, TicketEvent
from tests.factories import make_city

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 10, 1, 30, tzinfo=UTC)
SWEEP_AT = "2026-03-13T02:00:00+00:00"  # Friday 10:00 in Beijing: warnings, overdue, chases due

WORKER = """
import json, sys
from datetime import datetime
from sqlalchemy.orm import Session
from hotline.domain.calendar import WorkingCalendar
from hotline.jobs.sweep import tick
from hotline.models.engine import make_engine
url, schema, at = sys.argv[1:4]
engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
totals = {}
for _ in range(5):
    with Session(engine) as db:
        report = tick(db, datetime.fromisoformat(at), WorkingCalendar.chinese())
    for kind, n in report.alerts.items():
        totals[kind] = totals.get(kind, 0) + n
print(json.dumps(totals))
"""


@pytest.mark.parametrize("fresh_backend", ["postgresql"], indirect=True)
def test_two_scheduler_processes_record_each_alert_exactly_once(fresh_backend) -> None:
    with Session(fresh_backend.engine) as setup:
        city = make_city(setup, FixedClock(NOW))
        ids = [city.dispatched().id for _ in range(60)]
        setup.commit()

    args = [fresh_backend.url, fresh_backend.schema, SWEEP_AT]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [json.loads(w.communicate(timeout=120)[0]) for w in workers]
    assert all(w.returncode == 0 for w in workers)

    combined = {k: sum(o.get(k, 0) for o in outputs) for k in ("warning", "overdue", "chase")}
    assert combined == {"warning": 60, "overdue": 60, "chase": 60}
    with Session(fresh_backend.engine) as check:
        alerts = check.execute(sa.select(TicketAlert.ticket_id, TicketAlert.kind)).all()
        chases = check.scalars(
            sa.select(TicketEvent.ticket_id).where(TicketEvent.action == Action.CHASE)
        ).all()
    assert len(alerts) == len(set(alerts)) == 180
    assert sorted(chases) == sorted(ids)
