"""The transfer API's request and response shapes, and the OpenAPI description made from them.

Pydantic checks shape and types (a number where text belongs is refused, not coerced); the
services check meaning (a phone number's format, a time in the future). The OpenAPI document
is generated from these same classes, so it cannot drift from what the API accepts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hotline.domain.text import MAX_TRANSCRIPT_CHARS
from hotline.domain.vocabulary import Channel, Nature, Urgency

NatureValue = Literal[tuple(n.value for n in Nature)]  # type: ignore[valid-type]
UrgencyValue = Literal[tuple(u.value for u in Urgency)]  # type: ignore[valid-type]
ChannelValue = Literal[tuple(c.value for c in Channel)]  # type: ignore[valid-type]


class CallPush(BaseModel):
    """A call or work order pushed in by the other platform's system."""

    model_config = ConfigDict(extra="forbid", strict=True)

    transcript: str = Field(min_length=1, max_length=MAX_TRANSCRIPT_CHARS)
    external_id: str | None = Field(None, max_length=64, description="对方系统的警单/工单号")
    received_at: AwareDatetime | None = Field(None, description="来电时间，须带时区")
    caller_number: str | None = Field(None, max_length=24)
    caller_name: str | None = Field(None, max_length=50)
    location_text: str | None = Field(None, max_length=200)
    district: str | None = Field(None, max_length=50)
    nature: NatureValue = "help"
    urgency: UrgencyValue = "normal"
    channel: ChannelValue = "phone"
    is_confidential: bool = False


class TicketOut(BaseModel):
    id: int
    number: str
    state: str
    destination: str
    lead_agency: str | None
    direction: str


class CallOut(BaseModel):
    call_id: int
    external_id: str | None
    status: Literal["queued", "transferred"]
    ticket: TicketOut | None
    routing: dict[str, Any]


class FeedbackOut(BaseModel):
    cursor: int
    call_id: int
    external_id: str | None
    ticket_id: int
    ticket_number: str
    status: Literal["received", "signed", "replied", "closed", "returned"]
    occurred_at: datetime
    note: str | None


class FeedbackPage(BaseModel):
    items: list[FeedbackOut]
    next_cursor: int


class ErrorOut(BaseModel):
    error: str
    message: str
    field: str | None = None


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _schema(model)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    texts = {
        400: "请求体不是 JSON 或缺少必需的请求头",
        401: "缺少或无效的 API 密钥",
        404: "不存在，或不是本系统推送的来电",
        409: "幂等键已用于另一个不同的请求",
        413: "请求体过大",
        422: "字段缺失、类型错误或取值无效",
    }
    return {str(s): _json(ErrorOut, texts[s]) for s in statuses}


def openapi_document(server_url: str = "/") -> dict[str, Any]:
    models = (CallPush, TicketOut, CallOut, FeedbackOut, FeedbackPage, ErrorOut)
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    key_header = {"ApiKey": []}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "110 / 12345 联动平台转接接口",
            "version": "1",
            "description": (
                "对方平台的系统通过本接口推送来电或工单，并按游标读取状态反馈"
                "（received 已受理、signed 已签收、replied 已答复、"
                "closed 已办结、returned 已退回）。"
                "每个系统使用各自的 API 密钥（请求头 X-API-Key）。"
            ),
        },
        "servers": [{"url": server_url}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
        "security": [key_header],
        "paths": {
            "/api/v1/calls": {
                "post": {
                    "operationId": "pushCall",
                    "summary": "推送一个来电或工单",
                    "description": (
                        "平台分类并按本市规则转接：生成一张工单并派往去向单位（201），"
                        "或在需要人工研判时进入坐席队列（202）。相同 Idempotency-Key 的重试"
                        "返回第一次的结果（200），不会重复建单；同一密钥配不同请求体返回 409。"
                    ),
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 128},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _schema(CallPush)}},
                    },
                    "responses": {
                        "200": _json(CallOut, "重试：返回第一次请求的结果"),
                        "201": _json(CallOut, "已转接并建单"),
                        "202": _json(CallOut, "需人工研判，已进入坐席队列"),
                        **_errors(400, 401, 409, 413, 422),
                    },
                }
            },
            "/api/v1/calls/{call_id}": {
                "get": {
                    "operationId": "getCall",
                    "summary": "查询本系统推送的来电及其工单状态",
                    "parameters": [
                        {
                            "name": "call_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    ],
                    "responses": {"200": _json(CallOut, "来电及工单"), **_errors(401, 404)},
                }
            },
            "/api/v1/feedback": {
                "get": {
                    "operationId": "listFeedback",
                    "summary": "按游标读取状态反馈",
                    "parameters": [
                        {
                            "name": "after",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 0, "default": 0},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 500,
                                "default": 100,
                            },
                        },
                    ],
                    "responses": {"200": _json(FeedbackPage, "反馈"), **_errors(401, 422)},
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "本接口的 OpenAPI 描述",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1 文档"}},
                }
            },
        },
    }
