"""The transfer API (/api/v1): the other platform pushes calls in and reads status feedback.

Thin like every blueprint: authenticate the system, parse the body, call the transfer service,
commit once. Errors are JSON with a stable code and a Chinese message, never a stack trace.
"""

from __future__ import annotations

from typing import Any

import pydantic
from flask import Blueprint, Response, current_app, g, jsonify, request

from hotline.domain.errors import HotlineError, NotFound, ValidationError
from hotline.domain.text import ascii_number
from hotline.extensions import app_router, csrf, db
from hotline.models import ApiClient, Call, Ticket, Transfer
from hotline.services import exchange
from hotline.services.context import Actor
from hotline.services.intake import CallInput
from hotline.services.tickets import MAX_ID
from hotline.services.transfer import clean_key, request_hash, submit, transfer_of
from hotline.web import request_context
from hotline.web.api_schemas import CallOut, CallPush, FeedbackPage, openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies, no browser session: the API key is the credential


class ApiError(HotlineError):
    def __init__(self, status: int, code: str, message: str, **details: object) -> None:
        super().__init__(message, **details)
        self.http_status, self.code = status, code


@bp.after_request
def _challenge(response: Response) -> Response:
    # Errors are answered by the app's handlers (hotline.web.errors); a 401 also says how to
    # authenticate.
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'ApiKey header="X-API-Key"'
    return response


# Query parameters each endpoint understands; anything else is a mistake worth reporting.
QUERY_PARAMETERS = {"api.feedback": {"after", "limit"}}


@bp.before_request
def _authenticate_and_check_query() -> None:
    if request.endpoint != "api.openapi":
        client = exchange.authenticate(db.session, request.headers.get("X-API-Key"))
        if client is None:
            raise ApiError(401, "unauthorized", "缺少或无效的 API 密钥（请求头 X-API-Key）")
        g.api_client = client
    unknown = set(request.args) - QUERY_PARAMETERS.get(request.endpoint or "", set())
    if unknown:
        raise ValidationError(sorted(unknown)[0], "未知的查询参数")


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(request.host_url))


@bp.post("/calls")
def push_call():
    client: ApiClient = g.api_client
    raw_key = request.headers.get("Idempotency-Key")
    if raw_key is None:
        raise ApiError(400, "missing_idempotency_key", "缺少请求头 Idempotency-Key")
    key = clean_key(raw_key, "Idempotency-Key")
    if not request.is_json:
        raise ApiError(400, "not_json", "请求体应为 JSON（Content-Type: application/json）")
    body = _parse(CallPush, request.get_data())
    ctx = request_context(Actor.system(f"接口：{client.name}"))
    data = CallInput(
        hotline=client.hotline,
        transcript=body.transcript,
        received_at=body.received_at,
        channel=body.channel,
        nature=body.nature,
        urgency=body.urgency,
        caller_number=body.caller_number,
        caller_name=body.caller_name,
        location_text=body.location_text,
        district=body.district,
        is_confidential=body.is_confidential,
    )
    routed = app_router(current_app).route_call(data, data.received_at or ctx.now)
    outcome = submit(
        ctx,
        data,
        routed,
        current_app.extensions["hotline.rules"].rules,
        key=f"api:{client.id}:{key}",
        fingerprint=request_hash(body.model_dump(mode="json")),
        api_client_id=client.id,
        external_id=body.external_id,
    )
    out = _call_out(outcome.call, outcome.transfer)
    db.session.commit()
    status = 200 if outcome.replayed else 201 if outcome.transfer is not None else 202
    response = jsonify(out)
    response.status_code = status
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/calls/<int:call_id>")
def get_call(call_id: int):
    client: ApiClient = g.api_client
    call = db.session.get(Call, call_id) if 1 <= call_id <= MAX_ID else None
    # Another system's call answers exactly like a missing one.
    if call is None or call.api_client_id != client.id:
        raise NotFound(f"来电 {call_id} 不存在")
    return jsonify(_call_out(call, transfer_of(db.session, call.id)))


@bp.get("/feedback")
def feedback():
    client: ApiClient = g.api_client
    after = _int_arg("after", 0, 0, MAX_ID)
    limit = _int_arg("limit", 100, 1, exchange.MAX_FEED_PAGE)
    items = exchange.feedback(db.session, client.id, after=after, limit=limit)
    page = FeedbackPage(
        items=[item.__dict__ for item in items],
        next_cursor=items[-1].cursor if items else after,
    )
    return jsonify(page.model_dump(mode="json"))


def _parse(model: type[pydantic.BaseModel], raw: bytes) -> Any:
    try:
        return model.model_validate_json(raw)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValidationError(where, _message(first)) from exc


def _message(error: Any) -> str:
    kind = error["type"]
    messages = {
        "missing": "必填",
        "extra_forbidden": "未知字段",
        "string_type": "应为文本",
        "bool_type": "应为 true 或 false",
        "literal_error": "取值无效",
        "string_too_short": "不能为空",
        "string_too_long": "过长",
        "json_invalid": "不是有效的 JSON",
        "model_type": "应为 JSON 对象",
        "model_attributes_type": "应为 JSON 对象",
        "timezone_aware": "时间必须带时区",
        "datetime_from_date_parsing": "不是有效的时间",
        "datetime_parsing": "不是有效的时间",
        "datetime_type": "不是有效的时间",
    }
    return messages.get(kind, f"无效：{error.get('msg', kind)}")


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    value = ascii_number(raw, 19)
    if value is None or not low <= value <= high:
        raise ValidationError(name, f"应为 {low}–{high} 之间的整数")
    return value


def _call_out(call: Call, transfer: Transfer | None) -> dict[str, Any]:
    ticket_out = None
    if transfer is not None:
        ticket: Ticket = transfer.ticket
        ticket_out = {
            "id": ticket.id,
            "number": ticket.number,
            "state": ticket.state.value,
            "destination": transfer.destination,
            "lead_agency": ticket.lead_agency.code if ticket.lead_agency else None,
            "direction": ticket.direction.value,
        }
    routing = dict(call.routing or {})
    out = CallOut(
        call_id=call.id,
        external_id=call.external_id,
        status=call.status.value,
        ticket=ticket_out,
        routing=routing,
    )
    return out.model_dump(mode="json")
