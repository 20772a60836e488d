"""Feedback deadlines, computed from stored facts and a named policy on the working calendar.

The facts are: when the ticket was dispatched (and signed for), which deadline policy applies,
and what happened to the clock since — approved extensions and suspensions, in order. Given
the same facts the same deadlines come out, so a change of category or priority recomputes
them from the original start instead of patching the current values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import CHINA_TZ, ensure_aware
from hotline.domain.lifecycle import TicketState
from hotline.domain.policies import Policy, PolicySet, Start, parse_policies, resume_due
from hotline.domain.vocabulary import Nature, Urgency

# The defaults of domain.md section 4, used when a city ships no deadline_policies.yaml.
# The repository's deadline_policies.yaml must say the same (a test compares them).
BUILT_IN_POLICIES: dict[str, object] = {
    "version": 1,
    "default": "general",
    "warning_share": 0.8,
    "policies": {
        "general": {
            "description": "一般事项",
            "clocks": {
                "sign_for": {"amount": 1, "unit": "working_days"},
                "reply": {"amount": 5, "unit": "working_days"},
                "close": {"amount": 10, "unit": "working_days"},
            },
        },
        "complaint": {
            "description": "投诉、举报",
            "clocks": {
                "sign_for": {"amount": 1, "unit": "working_days"},
                "reply": {"amount": 15, "unit": "working_days"},
                "close": {"amount": 20, "unit": "working_days"},
            },
        },
        "utility": {
            "description": "水电气热等公用事业",
            "clocks": {
                "sign_for": {"amount": 2, "unit": "hours"},
                "reply": {"amount": 24, "unit": "hours"},
            },
        },
        "urgent": {
            "description": "紧急工单",
            "clocks": {
                "sign_for": {"amount": 30, "unit": "minutes"},
                "reply": {"amount": 1, "unit": "days", "counting": "inclusive"},
            },
        },
        "emergency": {
            "description": "特急 / 应急类工单",
            "clocks": {
                "sign_for": {"amount": 30, "unit": "minutes"},
                "reply": {"amount": 2, "unit": "hours"},
            },
        },
    },
}

# When neither the routing rules nor a person names a policy, urgency and nature choose one.
_BY_URGENCY = {Urgency.CRITICAL: "emergency", Urgency.URGENT: "urgent"}
_BY_NATURE = {Nature.COMPLAINT: "complaint", Nature.REPORT: "complaint"}


@cache
def default_policies() -> PolicySet:
    return parse_policies(BUILT_IN_POLICIES, source="built-in")


def choose_policy(policies: PolicySet, urgency: Urgency, nature: Nature | None) -> str:
    """The policy a ticket gets by default: by urgency first, then by nature, else the default."""
    for name in (_BY_URGENCY.get(urgency), _BY_NATURE.get(nature) if nature else None):
        if name is not None and name in policies.policies:
            return name
    return policies.default


@dataclass(frozen=True)
class Extension:
    """An approved 延期: the reply deadline moves by working days, keeping its time of day."""

    approved_at: datetime
    working_days: int


@dataclass(frozen=True)
class Pause:
    """An approved 挂起 and, once resumed, its end; an open pause stops the clock."""

    paused_at: datetime
    resumed_at: datetime | None


@dataclass(frozen=True)
class Deadlines:
    sign_for_due_at: datetime
    reply_due_at: datetime | None  # None while a clock that starts at sign-for waits for it


def compute_deadlines(
    policy: Policy,
    dispatched_at: datetime,
    calendar: WorkingCalendar,
    *,
    signed_at: datetime | None = None,
    adjustments: Iterable[Extension | Pause] = (),
) -> Deadlines:
    """Both deadlines of one dispatch, replaying extensions and pauses in the order given."""
    dispatched_at = ensure_aware(dispatched_at)
    reply_rule = policy.clocks["reply"]
    # A policy without a sign-for clock still needs one: sign for by the reply deadline.
    sign_for_rule = policy.clocks.get("sign_for", reply_rule)
    sign_for = _in_zone(sign_for_rule.due(dispatched_at, calendar), dispatched_at)
    if reply_rule.starts_at is Start.SIGN_FOR:
        if signed_at is None:
            return Deadlines(sign_for, None)
        start = ensure_aware(signed_at)
    else:
        start = dispatched_at
    reply = _in_zone(reply_rule.due(start, calendar), dispatched_at)
    for change in adjustments:
        if isinstance(change, Extension):
            reply = extend(reply, change.working_days, calendar)
        elif change.resumed_at is not None:
            reply = resume_due(reply, change.paused_at, change.resumed_at, reply_rule, calendar)
    return Deadlines(sign_for, reply)


def dispatch_deadlines(
    dispatched_at: datetime,
    urgency: Urgency,
    nature: Nature,
    calendar: WorkingCalendar,
    policies: PolicySet | None = None,
) -> Deadlines:
    """Deadlines of a fresh dispatch under the policy urgency and nature choose."""
    policies = policies or default_policies()
    policy = policies.get(choose_policy(policies, urgency, nature))
    return compute_deadlines(policy, dispatched_at, calendar)


def extend(reply_due_at: datetime, working_days: int, calendar: WorkingCalendar) -> datetime:
    """An approved extension moves the reply deadline by working days, keeping the time of day."""
    local = ensure_aware(reply_due_at).astimezone(CHINA_TZ)
    new_day = calendar.add_working_days(local.date(), working_days)
    return datetime.combine(new_day, local.timetz()).astimezone(reply_due_at.tzinfo)


def _in_zone(value: datetime, like: datetime) -> datetime:
    # Stored payloads read in the caller's timezone, as they always have.
    return value.astimezone(like.tzinfo)


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
