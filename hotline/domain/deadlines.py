"""Feedback deadlines, computed from stored facts (when dispatched, urgency, nature) and a calendar.

This is the first, deliberately small policy set: the defaults of domain.md section 4 on the
working calendar of hotline.domain.calendar. Per-category policies plug in through
``DeadlinePolicy`` without changing callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import CHINA_TZ, ensure_aware
from hotline.domain.lifecycle import TicketState
from hotline.domain.policies import ClockRule, Unit
from hotline.domain.vocabulary import Nature, Urgency


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long an agency has, by urgency; complaints and reports get the longer handling clock."""

    sign_for_working_days: int = 1
    urgent_sign_for: timedelta = timedelta(minutes=30)
    handling_working_days: int = 5
    complaint_handling_working_days: int = 15
    urgent_handling: timedelta = timedelta(hours=24)
    critical_handling: timedelta = timedelta(hours=2)


@dataclass(frozen=True)
class Deadlines:
    sign_for_due_at: datetime
    reply_due_at: datetime


def _end_of_working_day(calendar: WorkingCalendar, start: datetime, days: int) -> datetime:
    # Same arithmetic as a configured working-day clock; kept in the caller's timezone so
    # stored payloads read as before.
    return ClockRule(days, Unit.WORKING_DAYS).due(start, calendar).astimezone(start.tzinfo)


def dispatch_deadlines(
    dispatched_at: datetime,
    urgency: Urgency,
    nature: Nature,
    calendar: WorkingCalendar,
    policy: DeadlinePolicy | None = None,
) -> Deadlines:
    """Both clocks start at dispatch, so an agency cannot stall by not signing."""
    policy = policy or DeadlinePolicy()
    start = ensure_aware(dispatched_at)
    if urgency is Urgency.NORMAL:
        sign_for = _end_of_working_day(calendar, start, policy.sign_for_working_days)
        days = (
            policy.complaint_handling_working_days
            if nature in (Nature.COMPLAINT, Nature.REPORT)
            else policy.handling_working_days
        )
        reply = _end_of_working_day(calendar, start, days)
    else:
        sign_for = start + policy.urgent_sign_for
        reply = start + (
            policy.critical_handling if urgency is Urgency.CRITICAL else policy.urgent_handling
        )
    return Deadlines(sign_for_due_at=sign_for, reply_due_at=reply)


def extend(reply_due_at: datetime, working_days: int, calendar: WorkingCalendar) -> datetime:
    """An approved extension moves the reply deadline by working days, keeping the time of day."""
    local = ensure_aware(reply_due_at).astimezone(CHINA_TZ)
    new_day = calendar.add_working_days(local.date(), working_days)
    return datetime.combine(new_day, local.timetz()).astimezone(reply_due_at.tzinfo)


# Which clock an agency is working against in each state; None where no agency clock runs
# (waiting for 12345, paused, or finished). Stored as tickets.next_due_at for the sweep.
def next_due(
    state: TicketState, sign_for_due_at: datetime | None, reply_due_at: datetime | None
) -> datetime | None:
    if state is TicketState.DISPATCHED:
        return sign_for_due_at
    if state in _REPLY_CLOCK_STATES:
        return reply_due_at
    return None


_REPLY_CLOCK_STATES = frozenset(
    {
        TicketState.SIGNED,
        TicketState.IN_PROGRESS,
        TicketState.EXTENSION_REQUESTED,
        TicketState.SUSPENSION_REQUESTED,
    }
)
