"""Password log-in with throttling, and sessions that end.

A session ends after ``PERMANENT_SESSION_LIFETIME`` from log-in, after ``SESSION_IDLE_TIMEOUT``
without a request, when the user is deactivated, and when the password changes (the session's
user id carries a fragment derived from the password hash).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import (
    UserMixin,
    current_user,
    login_fresh,
    login_required,
    login_user,
    logout_user,
)
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from hotline.domain.text import ascii_number
from hotline.extensions import db, login_manager
from hotline.models import User
from hotline.services import login_throttle
from hotline.services.directory import end_sessions, verify_password

bp = Blueprint("auth", __name__)

WRONG_CREDENTIALS = "用户名或密码错误"
LOGIN_AT, SEEN_AT = "_hl_login_at", "_hl_seen_at"


def session_fragment(password_hash: str, epoch: int = 0) -> str:
    """Changes whenever the password does, and at every log-out (the user's session epoch);
    keyed, so the cookie tells nothing about the hash."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"{password_hash}:{epoch}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


@dataclass
class SessionUser(UserMixin):
    """What the session remembers of a user; the model itself stays free of Flask."""

    user_id: int
    username: str
    display_name: str
    role: str
    agency_id: int | None
    agency_name: str | None
    fragment: str = ""

    def get_id(self) -> str:
        return f"{self.user_id}:{self.fragment}"

    @classmethod
    def of(cls, user: User) -> SessionUser:
        return cls(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role.value,
            agency_id=user.agency_id,
            agency_name=user.agency.name if user.agency else None,
            fragment=session_fragment(user.password_hash, user.session_epoch),
        )


class LoginForm(FlaskForm):
    username = StringField(
        "用户名",
        validators=[
            DataRequired(),
            Length(max=64),
            # PostgreSQL refuses a NUL in a query parameter: it must not reach the database.
            Regexp(r"^[^\x00-\x1f\x7f]*\Z", message="用户名含有不可见控制字符"),
        ],
    )
    password = PasswordField("密码", validators=[DataRequired(), Length(max=256)])


def session_expiry(
    login_at: float | None,
    seen_at: float | None,
    now: float,
    lifetime: float,
    idle: float,
) -> str | None:
    """Why a session (times in epoch seconds) is over: "absolute", "idle", or None if it is not.
    A session without a log-in time predates these rules and is over too."""
    if login_at is None or now - login_at >= lifetime:
        return "absolute"
    if idle > 0 and (seen_at is None or now - seen_at >= idle):
        return "idle"
    return None


EXPIRED_MESSAGES = {
    "absolute": "登录已超过有效期，请重新登录",
    "idle": "长时间未操作，已自动退出，请重新登录",
}


def _expiry_enforced(app: Flask) -> bool:
    setting = app.config.get("SESSION_EXPIRY")
    return bool(setting) if setting is not None else not app.testing


def _seconds(value: object) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)  # type: ignore[arg-type]


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    # For permanent sessions Flask-Login only marks a session from another address or browser
    # "not fresh"; _end_stale_sessions turns that into a log-out.
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load(token: str) -> SessionUser | None:
        user_id, _, fragment = token.partition(":")
        number = ascii_number(user_id, 18)
        if number is None:
            return None
        user = db.session.get(User, number)
        if user is None or not user.is_active:
            return None
        if not hmac.compare_digest(
            fragment, session_fragment(user.password_hash, user.session_epoch)
        ):
            return None  # the password changed, or the user logged out, since this log-in
        return SessionUser.of(user)

    @app.before_request
    def _end_stale_sessions() -> None:
        if request.endpoint == "static" or "_user_id" not in session:
            return
        now = app.extensions["hotline.clock"].now().timestamp()
        reason = None
        if _expiry_enforced(app):
            reason = session_expiry(
                session.get(LOGIN_AT),
                session.get(SEEN_AT),
                now,
                _seconds(app.permanent_session_lifetime),
                _seconds(app.config.get("SESSION_IDLE_TIMEOUT") or 0),
            )
        if reason is None and current_user.is_authenticated and not login_fresh():
            reason = "moved"  # another address or browser presented this session cookie
        if reason is None:
            session[SEEN_AT] = now
            return
        app.logger.info("session of %s ended: %s", session.get("_user_id"), reason)
        logout_user()
        session.clear()
        flash(EXPIRED_MESSAGES.get(reason, "登录状态已失效，请重新登录"), "error")


def _throttle_settings() -> login_throttle.ThrottleSettings:
    config = current_app.config
    return login_throttle.ThrottleSettings(
        window=timedelta(seconds=int(config["LOGIN_FAILURE_WINDOW"])),
        per_user=int(config["LOGIN_MAX_FAILURES_PER_USER"]),
        per_address=int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error, status, headers = None, 200, {}
    if form.validate_on_submit():
        now = current_app.extensions["hotline.clock"].now()
        name = login_throttle.key_of(form.username.data)
        address = login_throttle.address_of(request.remote_addr)
        lock = login_throttle.check(db.session, name, address, now, _throttle_settings())
        if lock is not None:
            # Refused before the password is looked at: a locked name cannot be probed.
            current_app.logger.warning(
                "log-in refused, %s locked: %r from %s", lock.scope, name, address
            )
            error = f"登录失败次数过多，请 {lock.minutes_left(now)} 分钟后再试"
            status, headers = 429, {"Retry-After": str(lock.seconds_left(now))}
        else:
            user = db.session.scalar(sa.select(User).where(User.username == name))
            # An unknown name costs a hash check too, and every refusal reads the same.
            good = verify_password(user.password_hash if user else None, form.password.data)
            if user is not None and user.is_active and good:
                login_throttle.record_success(db.session, name, now)
                db.session.commit()
                _start_session(user, now.timestamp())
                current_app.logger.info("log-in: %s from %s", name, address)
                return redirect(safe_next(request.args.get("next", "")))
            login_throttle.record_failure(db.session, name, address, now)
            db.session.commit()
            current_app.logger.warning("log-in failed: %r from %s", name, address)
            error = WRONG_CREDENTIALS
    return render_template("login.html", form=form, error=error), status, headers


def _start_session(user: User, now: float) -> None:
    # Nothing from before the log-in survives it (an attacker may have planted the cookie).
    session.clear()
    session.permanent = True
    login_user(SessionUser.of(user))
    session[LOGIN_AT] = session[SEEN_AT] = now


def refresh_session_user(user: User) -> None:
    """Keep the current session after the user changed their own password (the fragment in the
    session id changes with it); the log-in time, and so the absolute lifetime, stays."""
    login_user(SessionUser.of(user))


def safe_next(target: str) -> str:
    """Only a path on this site: no scheme, no host, no control characters or backslashes
    (browsers strip tabs and read backslashes as slashes, turning "/\\evil" into another site)."""
    parts = urlsplit(target)
    unsafe = any(ord(ch) < 0x20 or ch in "\\\x7f" for ch in target)
    if (
        unsafe
        or parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
    ):
        return url_for("console.dashboard")
    return target


@bp.post("/logout")
@login_required
def logout():
    current_app.logger.info("log-out: %s", current_user.username)
    # Every session of this user ends, including copies of this cookie elsewhere.
    end_sessions(db.session, current_user.user_id)
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
