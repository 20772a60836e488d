"""Errors answered in Chinese, as HTML for people and JSON for API clients; never a stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from hotline.domain.errors import HotlineError, ValidationError
from hotline.extensions import db
from hotline.observability import current_request_id

TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "没有权限",
    404: "页面或工单不存在",
    405: "不支持的操作",
    409: "操作冲突",
    413: "上传内容过大",
    422: "输入有误",
    500: "系统内部错误",
    503: "服务暂不可用",
}


def _wants_json() -> bool:
    # A JSON request (the API, the desk's script) gets a JSON answer whatever it accepts.
    return (
        request.path.startswith("/api/")
        or request.is_json
        or request.accept_mimetypes.best == "application/json"
    )


def _respond(status: int, message: str, code: str, field: str | None = None):
    # A server error shows the request id, so a user can quote it and support can find the log.
    request_id = current_request_id() if status >= 500 else None
    if _wants_json():
        body = {"error": code, "message": message}
        if field is not None:
            body["field"] = field  # so a form or a client can point at what to fix
        if request_id:
            body["request_id"] = request_id
        return jsonify(body), status
    title = TITLES.get(status, "出错了")
    page = render_template(
        "error.html", status=status, title=title, message=message, request_id=request_id
    )
    return page, status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HotlineError)
    def _domain_error(exc: HotlineError):
        db.session.rollback()  # nothing of a refused action may be committed later
        field = exc.field if isinstance(exc, ValidationError) else None
        return _respond(exc.http_status, exc.message, exc.code, field)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        description = exc.description if status == 400 and exc.description else ""
        return _respond(status, description or TITLES.get(status, exc.name), exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return _respond(500, "系统内部错误，已记录，请稍后重试", "internal_error")
