"""Password log-in. Full role management and rate limiting come with the workbench."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import UserMixin, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from hotline.extensions import db, login_manager
from hotline.models import User
from hotline.services.directory import verify_password

bp = Blueprint("auth", __name__)


@dataclass
class SessionUser(UserMixin):
    """What the session remembers of a user; the model itself stays free of Flask."""

    user_id: int
    username: str
    display_name: str
    role: str
    agency_id: int | None
    agency_name: str | None

    def get_id(self) -> str:
        return str(self.user_id)

    @classmethod
    def of(cls, user: User) -> SessionUser:
        return cls(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role.value,
            agency_id=user.agency_id,
            agency_name=user.agency.name if user.agency else None,
        )


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=256)])


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"

    @login_manager.user_loader
    def _load(user_id: str) -> SessionUser | None:
        if not user_id.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        return SessionUser.of(user) if user and user.is_active else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(User).where(User.username == form.username.data))
        # One message for unknown users and wrong passwords: no hint which it was.
        if user and user.is_active and verify_password(user.password_hash, form.password.data):
            login_user(SessionUser.of(user))
            return redirect(safe_next(request.args.get("next", "")))
        flash("用户名或密码错误", "error")
    return render_template("login.html", form=form)


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
    logout_user()
    return redirect(url_for("auth.login"))
