"""Deadline computation speed on the Chinese working calendar (target: >= 100,000/s).

Run: .venv/bin/python benchmarks/deadlines_speed.py
Computes reply deadlines (5 working days, 次日起算) and alert schedules for starts spread over
2026 (holidays and make-up days included) and early 2027 (the fallback). Not a test.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import CHINA_TZ
from hotline.domain.policies import ClockRule, Unit, alert_schedule


def main(n: int = 200_000) -> None:
    calendar = WorkingCalendar.chinese()
    rng = random.Random(7)
    base = datetime(2026, 1, 1, tzinfo=CHINA_TZ)
    starts = [base + timedelta(minutes=rng.randrange(0, 420 * 24 * 60)) for _ in range(n)]
    for days in (5, 15):
        rule = ClockRule(days, Unit.WORKING_DAYS)
        started = time.perf_counter()
        for start in starts:
            rule.due(start, calendar)
        rate = n / (time.perf_counter() - started)
        print(f"reply deadline, {days} working days: {rate:,.0f} deadlines/s")
    rule = ClockRule(5, Unit.WORKING_DAYS)
    sample = starts[: n // 4]
    started = time.perf_counter()
    for start in sample:
        alert_schedule(start, rule.due(start, calendar), calendar, 0.8)
    print(f"deadline + full alert schedule: {len(sample) / (time.perf_counter() - started):,.0f}/s")


if __name__ == "__main__":
    main()
