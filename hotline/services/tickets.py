"""Ticket actions: every lifecycle step goes through ``_apply``.

``_apply`` asks the pure lifecycle which state comes next, checks that the actor may touch
this ticket, lets the action change its own fields, bumps the version and appends the
event. The version bump turns the flush into ``UPDATE ... WHERE version = :seen``, so of two
concurrent writers exactly one wins and the other gets a ConflictError; nothing is half-saved
because the caller rolls the whole transaction back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from classifier.data import POLICE_TYPES
from hotline.domain import deadlines
from hotline.domain.deadlines import Extension, Pause
from hotline.domain.errors import (
    ActionNotAllowed,
    ConflictError,
    UnknownTicket,
    ValidationError,
)
from hotline.domain.lifecycle import Action, transition
from hotline.domain.policies import (
    AlertKind,
    Policy,
    WarningLevel,
    alert_schedule,
    next_alert,
    resume_due,
    warning_level,
)
from hotline.domain.text import clean_text
from hotline.domain.vocabulary import AgencyRole, ReturnReason, Role, Satisfaction, Urgency
from hotline.models import Agency, Ticket, TicketAgency, TicketAlert, TicketEvent
from hotline.services.context import Context
from hotline.services.directory import find_agency

MAX_NOTE_CHARS = 2_000
MAX_ID = 2**63 - 1  # larger ids cannot exist and would overflow the database's bigint
MAX_REPLY_CHARS = 5_000
MAX_EXTENSION_WORKING_DAYS = 10
RETURN_WINDOW_WORKING_DAYS = 2

# A mutation changes the action's own fields and may return facts to add to the event payload.
Mutation = Callable[[Ticket], dict[str, Any] | None]


def get_ticket(ctx: Context, ticket_id: int) -> Ticket:
    """Load a ticket the actor may see. Agency staff get 'not found' for other agencies' tickets,
    so ids cannot be used to probe what exists."""
    valid = isinstance(ticket_id, int) and 1 <= ticket_id <= MAX_ID
    ticket = ctx.db.get(Ticket, ticket_id) if valid else None
    if ticket is None or not _visible_to_actor(ctx, ticket):
        raise UnknownTicket(f"工单 {ticket_id} 不存在", ticket_id=ticket_id)
    return ticket


def _visible_to_actor(ctx: Context, ticket: Ticket) -> bool:
    if ctx.actor.role is not Role.AGENCY_STAFF:
        return True
    if ticket.lead_agency_id == ctx.actor.agency_id:
        return True
    return (
        ctx.db.scalar(
            sa.select(TicketAgency.agency_id).where(
                TicketAgency.ticket_id == ticket.id,
                TicketAgency.agency_id == ctx.actor.agency_id,
            )
        )
        is not None
    )


def _apply(
    ctx: Context,
    ticket_id: int,
    action: Action,
    *,
    expected_version: int | None,
    payload: dict[str, Any] | None = None,
    mutate: Mutation | None = None,
) -> Ticket:
    ticket = get_ticket(ctx, ticket_id)
    if expected_version is not None and expected_version != ticket.version:
        raise _conflict(ticket.id)
    if ctx.actor.role is Role.AGENCY_STAFF and ticket.lead_agency_id != ctx.actor.agency_id:
        # Assisting and informed agencies see the ticket but only the lead acts on it.
        raise ActionNotAllowed(
            f"只有主办单位可以执行“{action.label}”", action=action.value, state=ticket.state.value
        )
    from_state = ticket.state
    to_state = transition(from_state, action, ctx.actor.role)
    lead_before = ticket.lead_agency_id
    payload = dict(payload or {})
    if mutate is not None:
        payload.update(mutate(ticket) or {})
    ticket.state = to_state
    ticket.is_open = to_state.is_open
    ticket.next_due_at = deadlines.next_due(to_state, ticket.sign_for_due_at, ticket.reply_due_at)
    ticket.next_alert_at = next_alert_at(ctx, ticket)
    ticket.updated_at = ctx.now
    ticket.version += 1
    ctx.db.add(
        TicketEvent(
            ticket_id=ticket.id,
            seq=ticket.version,
            occurred_at=ctx.now,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor_id=ctx.actor.user_id,
            actor_role=ctx.actor.role,
            # A return clears the lead; the step still concerns the agency that gave it back.
            agency_id=ticket.lead_agency_id or lead_before,
            payload=payload,
        )
    )
    # A failed flush expires every loaded object, so nothing below may touch ``ticket``.
    loaded_id = ticket.id
    try:
        ctx.db.flush()
    except StaleDataError as exc:
        raise _conflict(loaded_id) from exc
    except sa.exc.IntegrityError as exc:
        # Two writers racing past the version check still collide on (ticket_id, seq).
        if "seq" in str(exc.orig):
            raise _conflict(loaded_id) from exc
        raise
    except sa.exc.OperationalError as exc:
        # SQLite (WAL) cannot let a transaction that read before another's commit write after
        # it: "database is locked". For the user that is the same lost race as a stale version.
        if ctx.db.get_bind().dialect.name == "sqlite" and "locked" in str(exc.orig):
            raise _conflict(loaded_id) from exc
        raise
    return ticket


class _ClockFacts(Protocol):
    dispatched_at: datetime | None
    created_at: datetime


def clock_started_at(ticket: _ClockFacts) -> datetime:
    """Clocks run from dispatch (agencies cannot stall by not signing); before it, from intake."""
    return ticket.dispatched_at or ticket.created_at


def level_of(ctx: Context, ticket: Ticket) -> WarningLevel:
    """Green / yellow / red from the stored deadline and the clock, never a stored flag."""
    return warning_level(ctx.now, clock_started_at(ticket), ticket.next_due_at, ctx.warning_share)


def alert_plan(
    ctx: Context, ticket: Ticket
) -> tuple[list[tuple[AlertKind, datetime]], set[AlertKind]]:
    """The alert schedule of the ticket's running clock, and which of its alerts are recorded."""
    due = ticket.next_due_at
    if due is None:
        return [], set()
    schedule = alert_schedule(clock_started_at(ticket), due, ctx.calendar, ctx.warning_share)
    recorded = ctx.db.scalars(
        sa.select(TicketAlert.kind).where(
            TicketAlert.ticket_id == ticket.id, TicketAlert.due_at == due
        )
    )
    return schedule, {AlertKind(kind) for kind in recorded}


def next_alert_at(ctx: Context, ticket: Ticket) -> datetime | None:
    """When the deadline sweep must next look at this ticket (None: no clock is running)."""
    schedule, recorded = alert_plan(ctx, ticket)
    return next_alert(schedule, recorded)


def policy_of(ctx: Context, ticket: Ticket) -> Policy:
    """The deadline policy the ticket's clocks follow. A name the city has since removed from
    its configuration falls back to the default choice rather than strand the ticket."""
    name = ticket.deadline_policy
    if name is None or name not in ctx.policies.policies:
        name = deadlines.choose_policy(ctx.policies, ticket.priority, ticket.call.nature)
    return ctx.policies.get(name)


def _restart_clocks(ctx: Context, ticket: Ticket) -> dict[str, Any]:
    """Fresh clocks from ``ticket.dispatched_at`` (派单, 重派, 重办) under the ticket's policy."""
    policy = policy_of(ctx, ticket)
    ticket.deadline_policy = policy.name
    assert ticket.dispatched_at is not None
    due = deadlines.compute_deadlines(policy, ticket.dispatched_at, ctx.calendar)
    ticket.sign_for_due_at = due.sign_for_due_at
    ticket.reply_due_at = due.reply_due_at
    return {
        "deadline_policy": policy.name,
        "sign_for_due_at": _iso(due.sign_for_due_at),
        "reply_due_at": _iso(due.reply_due_at),
    }


def _recompute_clocks(ctx: Context, ticket: Ticket) -> datetime | None:
    """Both deadlines again from the original dispatch, replaying the approved extensions and
    suspensions since then: what a change of policy, category or priority must do."""
    assert ticket.dispatched_at is not None
    due = deadlines.compute_deadlines(
        policy_of(ctx, ticket),
        ticket.dispatched_at,
        ctx.calendar,
        signed_at=ticket.signed_at,
        adjustments=_clock_adjustments(ctx, ticket.id),
    )
    ticket.sign_for_due_at = due.sign_for_due_at
    ticket.reply_due_at = due.reply_due_at
    return due.reply_due_at


def _clock_adjustments(ctx: Context, ticket_id: int) -> list[Extension | Pause]:
    events = ctx.db.execute(
        sa.select(TicketEvent.action, TicketEvent.occurred_at, TicketEvent.payload)
        .where(TicketEvent.ticket_id == ticket_id)
        .order_by(TicketEvent.seq)
    ).all()
    changes: list[Extension | Pause] = []
    paused_at: datetime | None = None
    for action, occurred_at, payload in events:
        if action in (Action.DISPATCH, Action.REOPEN):
            changes, paused_at = [], None  # a new dispatch starts clean clocks
        elif action is Action.APPROVE_EXTENSION:
            changes.append(Extension(occurred_at, int((payload or {}).get("working_days", 0))))
        elif action is Action.APPROVE_SUSPENSION:
            paused_at = occurred_at
        elif action is Action.RESUME and paused_at is not None:
            changes.append(Pause(paused_at, occurred_at))
            paused_at = None
    return changes


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _conflict(ticket_id: int) -> ConflictError:
    return ConflictError("该工单已被他人更新，请刷新后重试；本次操作未保存", ticket_id=ticket_id)


def _decision_note(note: object, approve: bool) -> str | None:
    # An approval may be silent; a rejection must tell the agency why.
    return _note(note, required=not approve)


def _decide(
    ctx: Context,
    ticket_id: int,
    *,
    approve: bool,
    actions: tuple[Action, Action],
    note: str | None,
    mutate: Mutation | None,
    expected_version: int | None,
    payload: dict[str, Any] | None = None,
) -> Ticket:
    """The 12345 side's approve / reject of an agency's request (退单, 延期, 挂起, 答复审核)."""
    return _apply(
        ctx,
        ticket_id,
        actions[0] if approve else actions[1],
        expected_version=expected_version,
        mutate=mutate,
        payload={"note": note, **(payload or {})},
    )


def _note(value: object, field: str = "note", *, required: bool = True) -> str | None:
    return clean_text(value, field, max_chars=MAX_NOTE_CHARS, required=required)


def _agency_ids(ctx: Context, refs: Iterable[int | str] | None, field: str) -> list[Agency]:
    agencies: list[Agency] = []
    for ref in refs or ():
        agency = find_agency(ctx, ref, field)
        if agency not in agencies:
            agencies.append(agency)
    return agencies


# --- 派单 / 直办 -------------------------------------------------------------------------


def dispatch(
    ctx: Context,
    ticket_id: int,
    *,
    lead_agency: int | str,
    assisting: Iterable[int | str] | None = None,
    informed: Iterable[int | str] | None = None,
    note: str | None = None,
    deadline_policy: str | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """派单. ``deadline_policy`` comes from the routing rules; without one the ticket keeps the
    policy it had, or urgency and nature choose one."""
    lead = find_agency(ctx, lead_agency, "lead_agency")
    if deadline_policy is not None:
        ctx.policies.get(deadline_policy)  # an unknown name is a clear error before any change
    helpers = _agency_ids(ctx, assisting, "assisting")
    readers = _agency_ids(ctx, informed, "informed")
    overlap = {a.id for a in helpers} & {a.id for a in readers}
    if lead in helpers or lead in readers or overlap:
        raise ValidationError("agencies", "同一单位不能同时担任主办、协办或传阅")
    note_text = _note(note, required=False)

    def mutate(ticket: Ticket) -> dict[str, Any] | None:
        if deadline_policy is not None:
            ticket.deadline_policy = deadline_policy
        ticket.lead_agency_id = lead.id
        ticket.dispatched_at = ctx.now
        ticket.signed_at = None
        due = _restart_clocks(ctx, ticket)
        ticket.agencies = [
            TicketAgency(agency_id=a.id, role=AgencyRole.ASSISTING) for a in helpers
        ] + [TicketAgency(agency_id=a.id, role=AgencyRole.INFORMED) for a in readers]
        return due

    return _apply(
        ctx,
        ticket_id,
        Action.DISPATCH,
        expected_version=expected_version,
        mutate=mutate,
        payload={
            "lead_agency_id": lead.id,
            "assisting_agency_ids": [a.id for a in helpers],
            "informed_agency_ids": [a.id for a in readers],
            "note": note_text,
        },
    )


def answer_directly(
    ctx: Context, ticket_id: int, *, reply_text: str, expected_version: int | None = None
) -> Ticket:
    text = clean_text(reply_text, "reply_text", max_chars=MAX_REPLY_CHARS)

    def mutate(ticket: Ticket) -> dict[str, Any] | None:
        ticket.replied_at = ctx.now
        ticket.closed_at = ctx.now

    return _apply(
        ctx,
        ticket_id,
        Action.ANSWER_DIRECTLY,
        expected_version=expected_version,
        mutate=mutate,
        payload={"reply_text": text},
    )


# --- 签收 / 退单 ---------------------------------------------------------------------------


def sign_for(ctx: Context, ticket_id: int, *, expected_version: int | None = None) -> Ticket:
    def mutate(ticket: Ticket) -> dict[str, Any] | None:
        due_at = ticket.sign_for_due_at
        ticket.signed_at = ctx.now
        facts: dict[str, Any] = {
            "due_at": _iso(due_at),
            "dispatched_at": _iso(ticket.dispatched_at),
        }
        if ticket.reply_due_at is None and ticket.dispatched_at is not None:
            # The policy's handling clock starts at sign-for: it starts now.
            facts["reply_due_at"] = _iso(_recompute_clocks(ctx, ticket))
        return facts

    return _apply(ctx, ticket_id, Action.SIGN_FOR, expected_version=expected_version, mutate=mutate)


def request_return(
    ctx: Context,
    ticket_id: int,
    *,
    reason_code: ReturnReason | str,
    reason: str,
    suggested_agency: int | str,
    expected_version: int | None = None,
) -> Ticket:
    code = ReturnReason.parse(reason_code, "reason_code")
    text = _note(reason, "reason")
    suggested = find_agency(ctx, suggested_agency, "suggested_agency")

    def mutate(ticket: Ticket) -> dict[str, Any] | None:
        if suggested.id == ticket.lead_agency_id:
            raise ValidationError("suggested_agency", "建议承办单位不能是本单位")
        assert ticket.dispatched_at is not None
        window_end = deadlines.extend(
            ticket.dispatched_at, RETURN_WINDOW_WORKING_DAYS, ctx.calendar
        )
        if ctx.now > window_end:
            raise ActionNotAllowed(
                f"已超过退单时限（派单后 {RETURN_WINDOW_WORKING_DAYS} 个工作日）",
                action=Action.REQUEST_RETURN.value,
                state=ticket.state.value,
            )

    return _apply(
        ctx,
        ticket_id,
        Action.REQUEST_RETURN,
        expected_version=expected_version,
        mutate=mutate,
        payload={
            "reason_code": code.value,
            "reason": text,
            "suggested_agency_id": suggested.id,
        },
    )


def decide_return(
    ctx: Context,
    ticket_id: int,
    *,
    approve: bool,
    note: str | None = None,
    confirmed: ConfirmedLabel | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Approve or reject a return. A supervisor who approves may confirm the correct category
    (and whether it is a police matter): that becomes a labelled example for the classifier."""
    note_text = _decision_note(note, approve)
    if confirmed is not None and not approve:
        raise ValidationError("confirmed", "只有同意退单时才需要确认正确分类")
    label = confirmed.validated() if confirmed is not None else None

    def mutate(ticket: Ticket) -> dict[str, Any] | None:
        if label is not None:
            ticket.category_level1, ticket.category_level2 = label.level1, label.level2
        if approve:
            # Back to 12345 for re-dispatch: it leaves the agency's inbox and clocks stop.
            ticket.return_count += 1
            ticket.lead_agency_id = None
            ticket.agencies = []
            ticket.sign_for_due_at = None
            ticket.reply_due_at = None
        elif ticket.signed_at is None:
            ticket.signed_at = ctx.now

    return _decide(
        ctx,
        ticket_id,
        approve=approve,
        actions=(Action.APPROVE_RETURN, Action.REJECT_RETURN),
        note=note_text,
        mutate=mutate,
        expected_version=expected_version,
        payload={"confirmed_label": label.as_payload()} if label is not None else None,
    )


@dataclass(frozen=True)
class ConfirmedLabel:
    """What a person confirmed a call really was: the classifier's learning signal."""

    police: bool
    level1: str
    level2: str | None = None
    police_type: str | None = None

    def validated(self) -> ConfirmedLabel:
        if not isinstance(self.police, bool):
            raise ValidationError("confirmed.police", "应为是/否")
        level1 = clean_text(self.level1, "confirmed.level1", max_chars=32, single_line=True)
        level2 = clean_text(
            self.level2, "confirmed.level2", max_chars=64, required=False, single_line=True
        )
        police_type = clean_text(
            self.police_type,
            "confirmed.police_type",
            max_chars=16,
            required=False,
            single_line=True,
        )
        if self.police and police_type not in POLICE_TYPES:
            raise ValidationError(
                "confirmed.police_type", f"警情须注明类型：{'、'.join(POLICE_TYPES)}"
            )
        if not self.police and police_type:
            raise ValidationError("confirmed.police_type", "非警情不应有警情类型")
        return ConfirmedLabel(self.police, level1 or "", level2, police_type)

    def as_payload(self) -> dict[str, Any]:
        return {
            "police": self.police,
            "level1": self.level1,
            "level2": self.level2,
            "police_type": self.police_type,
        }


# --- 办理 / 延期 / 挂起 --------------------------------------------------------------------


def record_progress(
    ctx: Context, ticket_id: int, *, note: str, expected_version: int | None = None
) -> Ticket:
    text = _note(note)
    return _apply(
        ctx,
        ticket_id,
        Action.RECORD_PROGRESS,
        expected_version=expected_version,
        payload={"note": text},
    )


def request_extension(
    ctx: Context,
    ticket_id: int,
    *,
    working_days: int,
    reason: str,
    expected_version: int | None = None,
) -> Ticket:
    days = _extension_days(working_days, MAX_EXTENSION_WORKING_DAYS)
    text = _note(reason, "reason")

    def mutate(ticket: Ticket) -> dict[str, Any] | None:
        if ticket.reply_due_at is not None and ctx.now > ticket.reply_due_at:
            raise ActionNotAllowed(
                "已超过办理时限，不能再申请延期",
                action=Action.REQUEST_EXTENSION.value,
                state=ticket.state.value,
            )
        remaining = MAX_EXTENSION_WORKING_DAYS - ticket.extension_working_days
        if days > remaining:
            raise ValidationError(
                "working_days",
                f"累计延期不能超过 {MAX_EXTENSION_WORKING_DAYS} 个工作日，还可申请 {remaining} 个",
            )

    return _apply(
        ctx,
        ticket_id,
        Action.REQUEST_EXTENSION,
        expected_version=expected_version,
        mutate=mutate,
        payload={"working_days": days, "reason": text},
    )


def decide_extension(
    ctx: Context,
    ticket_id: int,
    *,
    approve: bool,
    working_days: int | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> Ticket:
    note_text = _decision_note(note, approve)

    def mutate(ticket: Ticket) -> dict[str, Any] | None:
        if not approve:
            return None
        requested = last_payload(ctx, ticket.id, Action.REQUEST_EXTENSION).get("working_days", 0)
        days = requested if working_days is None else _extension_days(working_days, requested)
        assert ticket.reply_due_at is not None
        ticket.reply_due_at = deadlines.extend(ticket.reply_due_at, days, ctx.calendar)
        ticket.extension_working_days += days
        return {"working_days": days, "reply_due_at": ticket.reply_due_at.isoformat()}

    return _decide(
        ctx,
        ticket_id,
        approve=approve,
        actions=(Action.APPROVE_EXTENSION, Action.REJECT_EXTENSION),
        note=note_text,
        mutate=mutate,
        expected_version=expected_version,
    )


def _extension_days(value: object, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("working_days", "应为整数")
    if not 1 <= value <= maximum:
        raise ValidationError("working_days", f"应在 1 到 {maximum} 个工作日之间")
    return value


def request_suspension(
    ctx: Context, ticket_id: int, *, reason: str, expected_version: int | None = None
) -> Ticket:
    text = _note(reason, "reason")
    return _apply(
        ctx,
        ticket_id,
        Action.REQUEST_SUSPENSION,
        expected_version=expected_version,
        payload={"reason": text},
    )


def decide_suspension(
    ctx: Context,
    ticket_id: int,
    *,
    approve: bool,
    note: str | None = None,
    expected_version: int | None = None,
) -> Ticket:
    note_text = _decision_note(note, approve)

    def mutate(ticket: Ticket) -> dict[str, Any] | None:
        if approve:
            ticket.suspended_at = ctx.now

    return _decide(
        ctx,
        ticket_id,
        approve=approve,
        actions=(Action.APPROVE_SUSPENSION, Action.REJECT_SUSPENSION),
        note=note_text,
        mutate=mutate,
        expected_version=expected_version,
    )


def resume(
    ctx: Context, ticket_id: int, *, note: str | None = None, expected_version: int | None = None
) -> Ticket:
    note_text = _note(note, required=False)

    def mutate(ticket: Ticket) -> dict[str, Any]:
        # The time that was left when suspended is left again now. Working-day clocks count
        # it in working time, so the new deadline never falls on a weekend or holiday.
        assert ticket.suspended_at is not None
        pause = ctx.now - ticket.suspended_at
        if ticket.reply_due_at is not None:
            ticket.reply_due_at = resume_due(
                ticket.reply_due_at,
                ticket.suspended_at,
                ctx.now,
                policy_of(ctx, ticket).clocks["reply"],
                ctx.calendar,
            )
        ticket.suspended_at = None
        return {
            "paused_seconds": pause.total_seconds(),
            "reply_due_at": _iso(ticket.reply_due_at),
        }

    return _apply(
        ctx,
        ticket_id,
        Action.RESUME,
        expected_version=expected_version,
        mutate=mutate,
        payload={"note": note_text},
    )


# --- 答复 / 审核 / 回访 / 办结 / 归档 / 重办 ------------------------------------------------


def reply(
    ctx: Context,
    ticket_id: int,
    *,
    contacted_caller: bool,
    resolved: bool,
    reply_text: str,
    expected_version: int | None = None,
) -> Ticket:
    for field, value in (("contacted_caller", contacted_caller), ("resolved", resolved)):
        if not isinstance(value, bool):
            raise ValidationError(field, "应为是/否")
    text = clean_text(reply_text, "reply_text", max_chars=MAX_REPLY_CHARS)

    def mutate(ticket: Ticket) -> dict[str, Any]:
        ticket.replied_at = ctx.now
        return {"due_at": _iso(ticket.reply_due_at), "dispatched_at": _iso(ticket.dispatched_at)}

    return _apply(
        ctx,
        ticket_id,
        Action.REPLY,
        expected_version=expected_version,
        mutate=mutate,
        payload={"contacted_caller": contacted_caller, "resolved": resolved, "reply_text": text},
    )


def review_reply(
    ctx: Context,
    ticket_id: int,
    *,
    approve: bool,
    note: str | None = None,
    expected_version: int | None = None,
) -> Ticket:
    note_text = _decision_note(note, approve)

    def mutate(ticket: Ticket) -> None:
        if not approve:
            ticket.replied_at = None

    return _decide(
        ctx,
        ticket_id,
        approve=approve,
        actions=(Action.APPROVE_REPLY, Action.REJECT_REPLY),
        note=note_text,
        mutate=mutate,
        expected_version=expected_version,
    )


def follow_up(
    ctx: Context,
    ticket_id: int,
    *,
    rating: Satisfaction | str,
    note: str | None = None,
    expected_version: int | None = None,
) -> Ticket:
    satisfaction = Satisfaction.parse(rating, "rating")
    note_text = _note(note, required=False)

    def mutate(ticket: Ticket) -> None:
        ticket.satisfaction = satisfaction

    return _apply(
        ctx,
        ticket_id,
        Action.FOLLOW_UP,
        expected_version=expected_version,
        mutate=mutate,
        payload={"rating": satisfaction.value, "score": satisfaction.score, "note": note_text},
    )


def close(
    ctx: Context, ticket_id: int, *, note: str | None = None, expected_version: int | None = None
) -> Ticket:
    note_text = _note(note, required=False)

    def mutate(ticket: Ticket) -> None:
        ticket.closed_at = ctx.now

    return _apply(
        ctx,
        ticket_id,
        Action.CLOSE,
        expected_version=expected_version,
        mutate=mutate,
        payload={"note": note_text},
    )


def reopen(
    ctx: Context, ticket_id: int, *, reason: str, expected_version: int | None = None
) -> Ticket:
    """重办: back to the same lead agency with fresh clocks; the history stays in the events."""
    text = _note(reason, "reason")

    def mutate(ticket: Ticket) -> dict[str, Any]:
        if ticket.lead_agency_id is None:
            raise ActionNotAllowed(
                "直办工单没有承办单位，不能重办",
                action=Action.REOPEN.value,
                state=ticket.state.value,
            )
        ticket.reopen_count += 1
        ticket.dispatched_at = ctx.now
        ticket.signed_at = None
        ticket.replied_at = None
        ticket.closed_at = None
        ticket.satisfaction = None
        ticket.extension_working_days = 0
        return _restart_clocks(ctx, ticket)

    return _apply(
        ctx,
        ticket_id,
        Action.REOPEN,
        expected_version=expected_version,
        mutate=mutate,
        payload={"reason": text},
    )


def archive(ctx: Context, ticket_id: int, *, expected_version: int | None = None) -> Ticket:
    return _apply(ctx, ticket_id, Action.ARCHIVE, expected_version=expected_version)


def merge(
    ctx: Context,
    ticket_id: int,
    *,
    into_ticket_id: int,
    note: str | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """合并: a duplicate is closed into the ticket that carries on; both stay searchable."""
    note_text = _note(note, required=False)
    if into_ticket_id == ticket_id:
        raise ValidationError("into_ticket_id", "不能与自身合并")
    # Lock both rows, lower id first, and re-read them: two people merging A into B and B
    # into A at once must not both succeed and leave the matter with no open ticket.
    for locked_id in sorted((ticket_id, into_ticket_id)):
        if isinstance(locked_id, int) and 1 <= locked_id <= MAX_ID:
            try:
                ctx.db.get(Ticket, locked_id, with_for_update=True, populate_existing=True)
            except StaleDataError as exc:  # the re-read found a newer version than we held
                raise _conflict(locked_id) from exc
    target = get_ticket(ctx, into_ticket_id)
    if not target.is_open:
        raise ValidationError("into_ticket_id", f"目标工单已{target.state.label}，不能并入")

    def mutate(ticket: Ticket) -> None:
        ticket.merged_into_id = target.id
        ticket.closed_at = ctx.now

    return _apply(
        ctx,
        ticket_id,
        Action.MERGE,
        expected_version=expected_version,
        mutate=mutate,
        payload={"into_ticket_id": target.id, "note": note_text},
    )


# --- 调整分类: category, priority or policy corrected; deadlines follow -------------------


def reclassify(
    ctx: Context,
    ticket_id: int,
    *,
    reason: str,
    category_level1: str | None = None,
    category_level2: str | None = None,
    category_level3: str | None = None,
    priority: Urgency | str | None = None,
    deadline_policy: str | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Correct what the ticket is. Deadlines are recomputed from the original dispatch (with
    the extensions and suspensions since), never from now: a late correction neither gives
    the agency a fresh clock nor takes away time already granted."""
    text = _note(reason, "reason")
    changes: dict[str, Any] = {}
    for field, value, limit in (
        ("category_level1", category_level1, 32),
        ("category_level2", category_level2, 64),
        ("category_level3", category_level3, 64),
    ):
        if value is not None:
            changes[field] = clean_text(value, field, max_chars=limit, single_line=True)
    new_priority = Urgency.parse(priority, "priority") if priority is not None else None
    if deadline_policy is not None:
        ctx.policies.get(deadline_policy)
    if not changes and new_priority is None and deadline_policy is None:
        raise ValidationError("reclassify", "请至少修改分类、紧急程度或时限规则中的一项")

    def mutate(ticket: Ticket) -> dict[str, Any]:
        before = {
            "category_level1": ticket.category_level1,
            "category_level2": ticket.category_level2,
            "category_level3": ticket.category_level3,
            "priority": ticket.priority.value,
            "deadline_policy": ticket.deadline_policy,
        }
        for field, value in changes.items():
            setattr(ticket, field, value)
        if new_priority is not None:
            ticket.priority_rank = new_priority.rank
        if deadline_policy is not None:
            ticket.deadline_policy = deadline_policy
        elif new_priority is not None and new_priority.value != before["priority"]:
            # A new urgency picks its own clocks unless a policy was named with it.
            ticket.deadline_policy = deadlines.choose_policy(
                ctx.policies, new_priority, ticket.call.nature
            )
        facts: dict[str, Any] = {"before": before, **changes}
        if new_priority is not None:
            facts["priority"] = new_priority.value
        facts["deadline_policy"] = ticket.deadline_policy
        if ticket.dispatched_at is not None and ticket.sign_for_due_at is not None:
            _recompute_clocks(ctx, ticket)
            facts["sign_for_due_at"] = _iso(ticket.sign_for_due_at)
            facts["reply_due_at"] = _iso(ticket.reply_due_at)
        return facts

    return _apply(
        ctx,
        ticket_id,
        Action.RECLASSIFY,
        expected_version=expected_version,
        mutate=mutate,
        payload={"reason": text},
    )


# --- 催办 / 督办 / 通报: recorded, the state stays -----------------------------------------


def chase(
    ctx: Context, ticket_id: int, *, note: str | None = None, expected_version: int | None = None
) -> Ticket:
    return _record(ctx, ticket_id, Action.CHASE, note, required=False, version=expected_version)


def supervise(
    ctx: Context, ticket_id: int, *, note: str, expected_version: int | None = None
) -> Ticket:
    return _record(ctx, ticket_id, Action.SUPERVISE, note, required=True, version=expected_version)


def criticize(
    ctx: Context, ticket_id: int, *, note: str, expected_version: int | None = None
) -> Ticket:
    return _record(ctx, ticket_id, Action.CRITICIZE, note, required=True, version=expected_version)


def _record(
    ctx: Context,
    ticket_id: int,
    action: Action,
    note: str | None,
    *,
    required: bool,
    version: int | None,
) -> Ticket:
    note_text = _note(note, required=required)
    return _apply(ctx, ticket_id, action, expected_version=version, payload={"note": note_text})


def last_payload(ctx: Context, ticket_id: int, action: Action) -> dict[str, Any]:
    """The facts of the ticket's latest event of this kind (e.g. the pending extension request)."""
    payload = ctx.db.scalar(
        sa.select(TicketEvent.payload)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.action == action)
        .order_by(TicketEvent.seq.desc())
        .limit(1)
    )
    return dict(payload or {})


def history(ctx: Context, ticket_id: int) -> list[TicketEvent]:
    ticket = get_ticket(ctx, ticket_id)
    return list(
        ctx.db.scalars(
            sa.select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.seq)
        )
    )


ALERT_LABELS = {AlertKind.WARNING.value: "时限预警", AlertKind.OVERDUE.value: "已超期"}


def alerts_of(ctx: Context, ticket_id: int) -> list[TicketAlert]:
    """预警 / 超期 the sweep recorded (催办 / 通报 are in the event log already)."""
    ticket = get_ticket(ctx, ticket_id)
    return list(
        ctx.db.scalars(
            sa.select(TicketAlert)
            .where(TicketAlert.ticket_id == ticket.id, TicketAlert.kind.in_(ALERT_LABELS))
            .order_by(TicketAlert.recorded_at, TicketAlert.id)
        )
    )
