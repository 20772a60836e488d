"""Ticket overview and ticket page with its full event timeline."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import login_required

from hotline.domain.clock import to_local
from hotline.domain.errors import HotlineError, NotFound
from hotline.domain.lifecycle import TicketState
from hotline.domain.vocabulary import Role
from hotline.services import queries, tickets
from hotline.web import request_context

bp = Blueprint("console", __name__)


@bp.get("/")
@login_required
def dashboard():
    ctx = request_context()
    state = request.args.get("state") or None
    page = request.args.get("page", "1")
    # isdecimal + ASCII: "²".isdigit() is True but int("²") fails; huge pages overflow SQL.
    number = int(page) if page.isascii() and page.isdecimal() and len(page) <= 9 else 0
    try:
        listing = queries.list_tickets(ctx, state=state, page=number)
    except HotlineError as exc:
        abort(400, exc.message)
    calendar_warnings = (
        current_app.extensions["hotline.calendar"].warnings(to_local(ctx.now).date())
        if ctx.actor.role in (Role.SUPERVISOR, Role.ADMIN)
        else []
    )
    levels = {t.id: tickets.level_of(ctx, t) for t in listing.items if t.is_open}
    inbox = (
        queries.unread_notifications(ctx, ctx.actor.agency_id)
        if ctx.actor.role is Role.AGENCY_STAFF and ctx.actor.agency_id is not None
        else []
    )
    return render_template(
        "dashboard.html",
        inbox=inbox,
        levels=levels,
        calendar_warnings=calendar_warnings,
        counts=queries.state_counts(ctx),
        listing=listing,
        current_state=TicketState(state) if state else None,
    )


@bp.get("/tickets/<int:ticket_id>")
@login_required
def ticket(ticket_id: int):
    ctx = request_context()
    try:
        item = tickets.get_ticket(ctx, ticket_id)
    except NotFound:
        abort(404)
    # One timeline: the steps people took, and the sweep's 预警 / 超期 where they happened.
    entries = [(e.occurred_at, 0, e) for e in tickets.history(ctx, ticket_id)]
    entries += [(a.recorded_at, 1, a) for a in tickets.alerts_of(ctx, ticket_id)]
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    policy = tickets.policy_of(ctx, item) if item.dispatched_at is not None else None
    level = tickets.level_of(ctx, item) if item.is_open and item.next_due_at is not None else None
    return render_template(
        "ticket.html",
        ticket=item,
        timeline=[entry for _, _, entry in entries],
        alert_labels=tickets.ALERT_LABELS,
        policy=policy,
        level=level,
    )
