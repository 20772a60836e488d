"""Errors answered in Chinese, as HTML for people and JSON for API clients; never a stack trace."""

from __future__ import annotations

import sqlite3

import psycopg
import sqlalchemy as sa
from flask import Flask, jsonify, render_template, request
from markupsafe import escape
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


# How long a client should wait before retrying when the database cannot be reached: a
# PostgreSQL restart takes a few seconds, and the API's clients retry with the same
# Idempotency-Key, so a retry after this never makes a second ticket.
RETRY_AFTER_SECONDS = 5
DB_UNAVAILABLE = "数据库暂时不可用，请稍后重试"
DB_READ_ONLY = "数据库只读或磁盘已满，无法保存；请联系管理员"
DB_BUSY = "数据库繁忙，请稍后重试"
# SQLite's words for a database file that cannot take writes (read-only file, directory or
# mount; full disk; I/O error) or cannot be opened at all. "database is locked" is a busy
# writer, not an outage: where a service knows what it means (a ticket changed meanwhile) it
# answers 409 itself; anywhere else (an API push racing another worker's commit) the request
# wrote nothing and a retry with the same key succeeds, so it is told to retry.
_SQLITE_CANNOT_WRITE = (
    "readonly database",
    "read-only",
    "disk is full",
    "disk i/o error",
    "unable to open database",
)
# Errors that mean "the database is not there right now", not "this request is wrong".
DATABASE_DOWN = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DisconnectionError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
)

# The page for a database outage stands alone, outside Flask's templates: their context asks
# who is logged in, which needs the very database that is down.
_OUTAGE_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main data-status="503"><h1>{title}</h1><p>{message}</p>
<p>请于 {retry} 秒后刷新页面重试。</p>
<p>请求编号：<code data-request-id>{request_id}</code>（联系技术支持时请提供）</p>
</main></body></html>
"""


def database_trouble(exc: BaseException) -> str | None:
    """The message for an error that means the database cannot be used just now, or None."""
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, sqlite3.Error) or "sqlite" in type(exc).__module__:
        text = str(orig).lower()
        if any(words in text for words in _SQLITE_CANNOT_WRITE):
            return DB_READ_ONLY
        if "database is locked" in text:
            return DB_BUSY
        return None  # a mistake in a statement: not the database's state
    if isinstance(exc, DATABASE_DOWN) or isinstance(orig, DATABASE_DOWN):
        return DB_UNAVAILABLE
    return None


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
        message = database_trouble(exc)
        if message is not None:
            return _database_unavailable(exc, message)
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        _rollback()
        return _respond(500, "系统内部错误，已记录，请稍后重试", "internal_error")

    def _database_unavailable(exc: Exception, message: str):
        # No stack trace: an outage is expected to happen, and one line per failed request is
        # what an operator needs to see it start and end.
        app.logger.error(
            "database unavailable on %s %s: %s: %s",
            request.method,
            request.path,
            type(exc).__name__,
            str(getattr(exc, "orig", None) or exc).splitlines()[0][:300],
        )
        # Nothing half-written survives: closing rolls back (a dead connection is dropped by
        # the pool). Unlike rollback() it leaves loaded objects readable, so the access line
        # can still name the API client without asking the database that is down.
        db.session.close()
        code = {DB_READ_ONLY: "database_read_only", DB_BUSY: "database_busy"}.get(
            message, "database_unavailable"
        )
        if _wants_json():
            response = jsonify(
                {"error": code, "message": message, "request_id": current_request_id()}
            )
        else:
            page = _OUTAGE_PAGE.format(
                title=escape(TITLES[503]),
                message=escape(message),
                retry=RETRY_AFTER_SECONDS,
                request_id=escape(current_request_id() or "-"),
            )
            response = app.response_class(page, mimetype="text/html")
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # a dead connection may fail even to roll back; the pool drops it
        db.session.close()
