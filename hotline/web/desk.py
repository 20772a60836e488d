"""The call-taker desk (坐席台): read the call, see the suggestion, transfer with one key.

The page is plain HTML; a small script calls the JSON endpoints below for the suggestion, the
caller's history and the live queue, and posts the transfer with the page's idempotency key.
"""

from __future__ import annotations

import uuid
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from hotline.domain.errors import ValidationError
from hotline.domain.vocabulary import AgencyKind, Hotline, Nature, Role, Urgency
from hotline.extensions import app_router, db
from hotline.models import Agency, Call, Transfer
from hotline.rules.engine import Decision
from hotline.services import desk
from hotline.services.intake import CallInput
from hotline.services.transfer import Choice, clean_key, request_hash, submit, transfer_call
from hotline.web import request_context

bp = Blueprint("desk", __name__, url_prefix="/desk")

DESK_ROLES = {Role.CALL_TAKER, Role.SUPERVISOR}
CALL_FIELDS = ("hotline", "transcript", "caller_number", "district", "nature", "urgency")
DECISION_LABELS = {
    Decision.POLICE.value: "警情",
    Decision.NON_POLICE.value: "非警情",
    Decision.EMERGENCY.value: "应急联动",
    Decision.JOINT.value: "联合处置",
    Decision.REVIEW.value: "人工研判",
}


def desk_only(view):
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        if Role(current_user.role) not in DESK_ROLES:
            abort(403)
        return view(*args, **kwargs)

    return login_required(wrapped)


@bp.get("/")
@desk_only
def page():
    ctx = request_context()
    rules = current_app.extensions["hotline.rules"].rules
    return render_template(
        "desk.html",
        own_hotline=_own_hotline(),
        hotlines=list(Hotline),
        natures=list(Nature),
        urgencies=list(Urgency),
        destinations=desk.destinations(ctx, rules),
        idempotency_key=uuid.uuid4().hex,
    )


@bp.post("/route")
@desk_only
def suggest():
    """The classifier's reading and the rules' suggestion; nothing is saved."""
    ctx = request_context()
    data = _call_input(_json())
    routed = app_router(current_app).route_call(data, ctx.now)
    return jsonify(_suggestion(ctx, routed.to_dict()))


@bp.post("/transfer")
@desk_only
def transfer():
    """Record the call on the screen and transfer it, once per page (its idempotency key)."""
    ctx = request_context()
    body = _json()
    key = clean_key(body.get("idempotency_key"))
    data = _call_input(body)
    choice = _choice(body)
    routed = app_router(current_app).route_call(data, ctx.now)
    fingerprint = request_hash({f: body.get(f) for f in (*CALL_FIELDS, "destination", "reason")})
    outcome = submit(
        ctx,
        data,
        routed,
        current_app.extensions["hotline.rules"].rules,
        key=f"desk:{ctx.actor.user_id}:{key}",
        fingerprint=fingerprint,
        choice=choice,
    )
    # The desk always passes a choice, so a call is never left waiting without a transfer.
    assert outcome.transfer is not None
    result = _transferred(ctx, outcome.transfer, outcome.replayed)
    db.session.commit()
    return jsonify(result), 200 if outcome.replayed else 201


@bp.post("/calls/<int:call_id>/transfer")
@desk_only
def transfer_queued(call_id: int):
    """Decide a call from the queue (pushed by the other platform and sent to review)."""
    ctx = request_context()
    call = db.session.get(Call, call_id)
    if call is None:
        abort(404)
    transfer = transfer_call(
        ctx, call.id, current_app.extensions["hotline.rules"].rules, _choice(_json())
    )
    result = _transferred(ctx, transfer, replayed=False)
    db.session.commit()
    return jsonify(result), 201


@bp.get("/queue")
@desk_only
def live_queue():
    ctx = request_context()
    return jsonify(
        [
            {
                "id": call.id,
                "hotline": call.hotline.value,
                "received_at": call.received_at.isoformat(),
                "transcript": call.transcript[:200],
                "caller_number": call.caller_number,
                "district": call.district,
                "nature": call.nature.value,
                "urgency": call.urgency.value,
                "suggestion": _suggestion(ctx, call.routing or {}),
            }
            for call in desk.queue(ctx)
        ]
    )


@bp.get("/caller")
@desk_only
def caller():
    ctx = request_context()
    number = (request.args.get("number") or "").strip()[:24] or None
    history = desk.caller_history(ctx, number)
    return jsonify(
        {
            "recent_calls": [
                {
                    "id": c.id,
                    "received_at": c.received_at.isoformat(),
                    "hotline": c.hotline.value,
                    "transcript": c.transcript[:120],
                }
                for c in history.recent_calls
            ],
            "open_tickets": [
                {
                    "id": t.id,
                    "number": t.number,
                    "state": t.state.label,
                    "summary": t.summary,
                    "url": url_for("console.ticket", ticket_id=t.id),
                }
                for t in history.open_tickets
            ],
        }
    )


def _json() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("body", "请求体应为 JSON 对象")
    return body


def _text(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(field, "应为文本")
    return value


def _call_input(body: dict[str, Any]) -> CallInput:
    return CallInput(
        hotline=_text(body, "hotline") or _own_hotline().value,
        transcript=_text(body, "transcript") or "",
        caller_number=_text(body, "caller_number"),
        district=_text(body, "district"),
        nature=_text(body, "nature") or Nature.HELP.value,
        urgency=_text(body, "urgency") or Urgency.NORMAL.value,
    )


def _choice(body: dict[str, Any]) -> Choice:
    return Choice(destination=_text(body, "destination"), reason=_text(body, "reason"))


def _suggestion(ctx, routing: dict[str, Any]) -> dict[str, Any]:
    decision = routing.get("decision", "review")
    return {
        **routing,
        "decision_label": DECISION_LABELS.get(decision, decision),
        "destination_label": desk.destination_label(ctx, routing.get("destination")),
    }


def _transferred(ctx, transfer: Transfer, replayed: bool) -> dict[str, Any]:
    ticket = transfer.ticket
    return {
        "replayed": replayed,
        "ticket_id": ticket.id,
        "ticket_number": ticket.number,
        "state": ticket.state.label,
        "destination": transfer.destination,
        "destination_label": desk.destination_label(ctx, transfer.destination),
        "overridden": transfer.overridden,
        "url": url_for("console.ticket", ticket_id=ticket.id),
    }


def _own_hotline() -> Hotline:
    """A call taker answers the line of the centre they work for."""
    agency = db.session.get(Agency, current_user.agency_id) if current_user.agency_id else None
    police = agency is not None and agency.kind is AgencyKind.POLICE
    return Hotline.POLICE_110 if police else Hotline.SERVICE_12345
