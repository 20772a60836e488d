"""Headers every response carries, the proxy setting, and a Chinese answer to a CSRF failure."""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

# No inline script anywhere (the desk loads static/desk.js). Inline styles are allowed: a
# stray style="" attribute in a template must not break a page, and it cannot run code.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
CSRF_MESSAGE = "表单校验失败（安全令牌缺失或已过期），请刷新页面后重新提交"


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        # The client's address (log-in throttling, session binding) and https come from the
        # proxy's X-Forwarded-* headers, trusted only for that many hops.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        # Pages and JSON carry tickets and callers' data: no browser or proxy keeps a copy.
        headers["Cache-Control"] = "no-store"
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _csrf_error(_exc: CSRFError):
    from hotline.web.errors import _respond  # the one place errors are rendered

    return _respond(400, CSRF_MESSAGE, "csrf_error")
