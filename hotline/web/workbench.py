"""The ticket page's actions: one route takes every form, a table says which service it calls.

A refused action (bad input, a state that moved on, someone else's newer version) re-renders
the page with the reason and everything that was typed, never a blank form.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import login_required

from hotline.domain.errors import (
    ConflictError,
    HotlineError,
    NotFound,
    PermissionDenied,
    RoleNotAllowed,
    UnknownAgency,
    UnknownTicket,
)
from hotline.extensions import db
from hotline.services import attachments
from hotline.web import request_context
from hotline.web.console import render_ticket
from hotline.web.ticket_forms import FORMS, parse_version

bp = Blueprint("workbench", __name__)


@bp.post("/tickets/<int:ticket_id>/actions/<key>")
@login_required
def act(ticket_id: int, key: str):
    ctx = request_context()
    form = FORMS.get(key)
    if form is None:
        abort(404)
    values = request.form
    try:
        # The service is the authority on who may do what: a form the page did not offer
        # (another role, or a ticket that moved on) is refused there with the reason.
        form.handler(ctx, ticket_id, values, parse_version(values))
    except UnknownTicket as exc:
        db.session.rollback()
        abort(404, exc.message)
    except HotlineError as exc:
        db.session.rollback()
        return render_ticket(
            ctx, ticket_id, error=exc, form_key=key, values=values, status=_status(exc)
        )
    db.session.commit()
    flash(f"已{form.label}", "ok")
    return redirect(url_for("console.ticket", ticket_id=ticket_id))


def _status(exc: HotlineError) -> int:
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, UnknownAgency):
        return 422  # a choice on the form, not the page, was not found
    if isinstance(exc, (PermissionDenied, RoleNotAllowed)):
        return 403
    return exc.http_status


@bp.post("/tickets/<int:ticket_id>/caller-number")
@login_required
def reveal_caller_number(ticket_id: int):
    """The lead agency's staff may see the full number to call back; each look is logged."""
    ctx = request_context()
    current_app.logger.info(
        "caller number of ticket %s shown to user %s (agency %s)",
        ticket_id,
        ctx.actor.user_id,
        ctx.actor.agency_id,
    )
    return render_ticket(ctx, ticket_id, reveal_number=True)


@bp.post("/tickets/<int:ticket_id>/attachments")
@login_required
def upload(ticket_id: int):
    ctx = request_context()
    upload = request.files.get("file")
    try:
        if upload is None:
            attachments.add(ctx, ticket_id, filename=None, content=b"")
        else:
            content = upload.stream.read(attachments.MAX_ATTACHMENT_BYTES + 1)
            attachments.add(ctx, ticket_id, filename=upload.filename, content=content)
    except UnknownTicket:
        db.session.rollback()
        abort(404)
    except HotlineError as exc:
        db.session.rollback()
        return render_ticket(ctx, ticket_id, error=exc, form_key="upload", status=_status(exc))
    db.session.commit()
    flash("附件已上传", "ok")
    return redirect(url_for("console.ticket", ticket_id=ticket_id))


@bp.get("/tickets/<int:ticket_id>/attachments/<int:attachment_id>")
@login_required
def download(ticket_id: int, attachment_id: int):
    ctx = request_context()
    try:
        item = attachments.get(ctx, ticket_id, attachment_id)
    except NotFound:
        abort(404)
    response = current_app.response_class(item.content, mimetype=item.content_type)
    # Always a download, never shown inline: an uploaded file must not run in our origin.
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"attachment-{item.id}\"; filename*=UTF-8''{quote(item.filename)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
