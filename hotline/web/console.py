"""The workbench: the inbox (most pressing first, filters, green/yellow/red counts), the ticket
page with its whole history and the forms the person may use, and the supervisors' queue of
decisions waiting for them."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request
from flask_login import login_required

from hotline.domain import deadlines
from hotline.domain.clock import to_local
from hotline.domain.errors import HotlineError, NotFound
from hotline.domain.lifecycle import Action, TicketState
from hotline.domain.text import ascii_number
from hotline.domain.vocabulary import AgencyRole, ReturnReason, Role, Satisfaction, Urgency
from hotline.models import Agency, Call, Ticket
from hotline.services import attachments, inbox, queries, tickets
from hotline.services.context import Context
from hotline.web import request_context
from hotline.web.ticket_forms import available_forms

bp = Blueprint("console", __name__)

# The supervisors' queue: states in which the 12345 side owes the next step.
REVIEW_STATES = (
    TicketState.RECEIVED,
    TicketState.RETURN_REQUESTED,
    TicketState.RETURNED,
    TicketState.EXTENSION_REQUESTED,
    TicketState.SUSPENSION_REQUESTED,
    TicketState.REPLIED,
    TicketState.AWAITING_FOLLOW_UP,
    TicketState.FOLLOWED_UP,
)
REVIEW_LIMIT = 10


def _page_number(raw: str) -> int:
    return ascii_number(raw, 9) or 0  # 0 is refused by list_inbox with a clear message


@bp.get("/")
@login_required
def dashboard():
    ctx = request_context()
    try:
        selected = inbox.parse_filter(ctx, request.args)
        listing = inbox.list_inbox(
            ctx,
            selected,
            page=_page_number(request.args.get("page", "1")),
            per_page=current_app.config["INBOX_PAGE_SIZE"],
        )
    except HotlineError as exc:
        abort(400, exc.message)
    calendar_warnings = (
        current_app.extensions["hotline.calendar"].warnings(to_local(ctx.now).date())
        if ctx.actor.role in (Role.SUPERVISOR, Role.ADMIN)
        else []
    )
    notices = (
        queries.unread_notifications(ctx, ctx.actor.agency_id)
        if ctx.actor.role is Role.AGENCY_STAFF and ctx.actor.agency_id is not None
        else []
    )
    return render_template(
        "dashboard.html",
        inbox=notices,
        levels={t.id: tickets.level_of(ctx, t) for t in listing.items if t.is_open},
        level_counts=inbox.level_counts(ctx, selected),
        facets=inbox.facets(ctx, selected) if ctx.actor.role is Role.AGENCY_STAFF else None,
        calendar_warnings=calendar_warnings,
        counts=queries.state_counts(
            ctx,
            finished=selected.status is not inbox.Status.OPEN
            or (selected.state is not None and not selected.state.is_open),
        ),
        listing=listing,
        selected=selected,
        tabs=inbox.Tab,
    )


@bp.get("/review")
@login_required
def review():
    """What waits for the 12345 side: approvals, re-dispatch, follow-up calls, overdue work."""
    ctx = request_context()
    if ctx.actor.role not in (Role.SUPERVISOR, Role.CALL_TAKER):
        abort(403)
    counts = queries.state_counts(ctx, finished=False)
    queues = [
        (
            state,
            counts[state],
            inbox.list_inbox(
                ctx, inbox.InboxFilter(tab=inbox.Tab.ALL, state=state), per_page=REVIEW_LIMIT
            ),
        )
        for state in REVIEW_STATES
    ]
    overdue = inbox.list_inbox(
        ctx, inbox.InboxFilter(tab=inbox.Tab.ALL, overdue=True), per_page=REVIEW_LIMIT
    )
    return render_template("review.html", queues=queues, overdue=overdue)


@bp.get("/tickets/<int:ticket_id>")
@login_required
def ticket(ticket_id: int):
    ctx = request_context()
    return render_ticket(ctx, ticket_id)


def render_ticket(
    ctx: Context,
    ticket_id: int,
    *,
    error: HotlineError | None = None,
    form_key: str | None = None,
    values: Mapping[str, str] | None = None,
    reveal_number: bool = False,
    status: int = 200,
):
    """The ticket page. After a refused action it shows why, opens the form that was used and
    keeps what was typed, so nothing is lost when someone else changed the ticket first."""
    try:
        item = tickets.get_ticket(ctx, ticket_id)
    except NotFound:
        abort(404)
    # One timeline: the steps people took, the sweep's 预警 / 超期, and uploaded files.
    files = attachments.list_for(ctx, ticket_id)
    entries = [(e.occurred_at, 0, e) for e in tickets.history(ctx, ticket_id)]
    entries += [(a.recorded_at, 1, a) for a in tickets.alerts_of(ctx, ticket_id)]
    entries += [(f.uploaded_at, 2, f) for f in files]
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    policy = tickets.policy_of(ctx, item) if item.dispatched_at is not None else None
    level = tickets.level_of(ctx, item) if item.is_open and item.next_due_at is not None else None
    forms = available_forms(ctx, item)
    keys = {form.key for form in forms}
    return (
        render_template(
            "ticket.html",
            ticket=item,
            timeline=[entry for _, _, entry in entries],
            alert_labels=tickets.ALERT_LABELS,
            policy=policy,
            level=level,
            forms=forms,
            form_keys=keys,
            open_form=form_key,
            error=error,
            error_field=getattr(error, "field", None),
            values=values or {},
            caller=_caller_view(ctx, item, reveal_number),
            files=files,
            can_upload=attachments.can_upload(ctx, item.lead_agency_id, item.id),
            limits=_limits(ctx, item, keys),
            agencies=_agencies(ctx) if keys & {"dispatch", "request_return"} else [],
            suggested_agency=_suggested_agency(ctx, item) if "dispatch" in keys else None,
            duplicates=_duplicates(ctx, item) if "merge" in keys else [],
            return_reasons=list(ReturnReason),
            ratings=list(Satisfaction),
            urgencies=list(Urgency),
            agency_roles=AgencyRole,
            max_attachment_mb=attachments.MAX_ATTACHMENT_BYTES // 2**20,
            attachment_types=", ".join("." + e for e in attachments.ALLOWED_EXTENSIONS),
        ),
        status,
    )


def _caller_view(ctx: Context, ticket: Ticket, reveal: bool) -> dict[str, object]:
    """What of the caller this person sees. Agency staff get a masked number, the full one only
    on request when their agency leads the open ticket (to call back); confidential orders hide
    the caller from agencies entirely."""
    call = ticket.call
    agency_staff = ctx.actor.role is Role.AGENCY_STAFF
    if call.is_confidential and agency_staff:
        return {"hidden": True}
    may_reveal = (
        agency_staff
        and ticket.is_open
        and ticket.lead_agency_id == ctx.actor.agency_id
        and bool(call.caller_number)
    )
    return {
        "hidden": False,
        "confidential": call.is_confidential,
        "name": call.caller_name,
        "number": call.caller_number,
        "masked": agency_staff and not (reveal and may_reveal),
        "may_reveal": may_reveal and not reveal,
    }


def _limits(ctx: Context, ticket: Ticket, keys: set[str]) -> dict[str, object]:
    facts: dict[str, object] = {
        "extension_left": tickets.MAX_EXTENSION_WORKING_DAYS - ticket.extension_working_days,
    }
    if "request_return" in keys and ticket.dispatched_at is not None:
        facts["return_until"] = deadlines.extend(
            ticket.dispatched_at, tickets.RETURN_WINDOW_WORKING_DAYS, ctx.calendar
        )
    if "decide_extension" in keys:
        request = tickets.last_payload(ctx, ticket.id, Action.REQUEST_EXTENSION)
        facts["requested_days"] = request.get("working_days")
    if "decide_return" in keys:
        facts["return_request"] = tickets.last_payload(ctx, ticket.id, Action.REQUEST_RETURN)
    return facts


def _agencies(ctx: Context) -> list[Agency]:
    return list(
        ctx.db.scalars(
            sa.select(Agency).where(Agency.is_active.is_(True)).order_by(Agency.kind, Agency.code)
        )
    )


def _suggested_agency(ctx: Context, ticket: Ticket) -> int | None:
    """After an approved return, the agency the returning one named is the likely next owner."""
    if ticket.state is not TicketState.RETURNED:
        return None
    value = tickets.last_payload(ctx, ticket.id, Action.REQUEST_RETURN).get("suggested_agency_id")
    return value if isinstance(value, int) else None


def _duplicates(ctx: Context, ticket: Ticket) -> list[Ticket]:
    """Open tickets from the same caller number: the usual duplicates to merge."""
    number = ticket.call.caller_number
    if not number:
        return []
    return list(
        ctx.db.scalars(
            sa.select(Ticket)
            .join(Call, Call.id == Ticket.call_id)
            .where(
                Call.caller_number == number,
                Ticket.id != ticket.id,
                Ticket.is_open.is_(True),
            )
            .order_by(Ticket.id.desc())
            .limit(10)
        )
    )
