"""Administration: agencies and users (here), deadline policies and routing rules
(``admin_rules``). Admins only; every change is logged with who did it."""

from __future__ import annotations

from collections.abc import Mapping

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from hotline.domain.errors import ConflictError, HotlineError, NotFound, ValidationError
from hotline.domain.vocabulary import AgencyKind, Role
from hotline.extensions import db
from hotline.models import Agency, User
from hotline.services import directory
from hotline.services.context import Context
from hotline.web import request_context

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Roles an administrator can give; "system" is the platform itself and never logs in.
ROLES = [Role.CALL_TAKER, Role.AGENCY_STAFF, Role.SUPERVISOR, Role.ADMIN]


@bp.before_request
def _admins_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    if current_user.role != Role.ADMIN.value:
        abort(403)
    return None


def log(what: str, *args: object) -> None:
    current_app.logger.info("admin %s: " + what, current_user.username, *args)


def errors_of(exc: HotlineError) -> dict[str, str]:
    """The message for the field at fault (without the "field: " prefix), or for the form."""
    field = getattr(exc, "field", None) or str(exc.details.get("field") or "form")
    return {field: exc.message.removeprefix(f"{field}: ")}


def _number(raw: str | None, field: str) -> int | None:
    text = (raw or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdecimal() and len(text) <= 9):
        raise ValidationError(field, "无效的选项")
    return int(text)


def _text(form: Mapping[str, str], name: str) -> str:
    return form.get(name, "")


@bp.get("/")
def index():
    return redirect(url_for("admin.agencies"))


# --- agencies ---------------------------------------------------------------------------


@bp.get("/agencies")
def agencies():
    ctx = request_context()
    items = directory.list_agencies(ctx)
    staff: dict[int, int] = {}
    for user in directory.list_users(ctx):
        if user.agency_id is not None and user.is_active:
            staff[user.agency_id] = staff.get(user.agency_id, 0) + 1
    return render_template("admin/agencies.html", agencies=items, staff=staff, section="agencies")


def _agency_values(agency: Agency) -> dict[str, str]:
    return {
        "code": agency.code,
        "name": agency.name,
        "kind": agency.kind.value,
        "parent_id": str(agency.parent_id or ""),
        "district": agency.district or "",
        "contact_name": agency.contact_name or "",
        "contact_phone": agency.contact_phone or "",
        "email": agency.email or "",
        "marker": directory.fingerprint(agency),
    }


def _agency_form(
    ctx: Context,
    agency: Agency | None,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    status: int = 200,
):
    parents = [a for a in directory.list_agencies(ctx, active_only=True) if a is not agency]
    return (
        render_template(
            "admin/agency_form.html",
            agency=agency,
            values=values,
            errors=errors,
            kind_options=[(kind.value, kind.label) for kind in AgencyKind],
            parent_options=[(a.id, f"{a.name}（{a.code}）") for a in parents],
            section="agencies",
        ),
        status,
    )


def _parent(ctx: Context, raw: str | None) -> Agency | None:
    parent_id = _number(raw, "parent_id")
    if parent_id is None:
        return None
    try:
        return directory.get_agency(ctx, parent_id)
    except NotFound:
        raise ValidationError("parent_id", "未知的上级单位") from None


@bp.route("/agencies/new", methods=["GET", "POST"])
def agency_new():
    ctx = request_context()
    if request.method == "GET":
        return _agency_form(ctx, None, {"kind": AgencyKind.GOVERNMENT.value}, {})
    form = request.form
    try:
        agency = directory.create_agency(
            ctx,
            code=_text(form, "code"),
            name=_text(form, "name"),
            kind=_text(form, "kind"),
            parent=_parent(ctx, form.get("parent_id")),
            district=_text(form, "district"),
            contact_name=_text(form, "contact_name"),
            contact_phone=_text(form, "contact_phone"),
            email=_text(form, "email"),
        )
    except HotlineError as exc:
        db.session.rollback()
        return _agency_form(ctx, None, form, errors_of(exc), 422)
    db.session.commit()
    log("created agency %s (%s)", agency.code, agency.name)
    flash(f"已新建单位：{agency.name}（{agency.code}）", "info")
    return redirect(url_for("admin.agencies"))


def _agency_or_404(ctx: Context, agency_id: int) -> Agency:
    try:
        return directory.get_agency(ctx, agency_id)
    except NotFound:
        abort(404)


@bp.route("/agencies/<int:agency_id>/edit", methods=["GET", "POST"])
def agency_edit(agency_id: int):
    ctx = request_context()
    agency = _agency_or_404(ctx, agency_id)
    if request.method == "GET":
        return _agency_form(ctx, agency, _agency_values(agency), {})
    form = request.form
    before = _agency_values(agency)
    try:
        directory.update_agency(
            ctx,
            agency_id,
            expected=form.get("marker", ""),
            name=_text(form, "name"),
            kind=_text(form, "kind"),
            parent_id=_number(form.get("parent_id"), "parent_id"),
            district=_text(form, "district"),
            contact_name=_text(form, "contact_name"),
            contact_phone=_text(form, "contact_phone"),
            email=_text(form, "email"),
        )
    except ConflictError as exc:
        db.session.rollback()
        # Show the record as it is now, with a fresh marker: the admin re-applies knowingly.
        agency = _agency_or_404(ctx, agency_id)
        return _agency_form(ctx, agency, _agency_values(agency), {"conflict": exc.message}, 409)
    except HotlineError as exc:
        db.session.rollback()
        agency = _agency_or_404(ctx, agency_id)
        return _agency_form(ctx, agency, {**form, "code": agency.code}, errors_of(exc), 422)
    db.session.commit()
    after = _agency_values(agency)
    changed = {k: (before[k], after[k]) for k in after if k != "marker" and before[k] != after[k]}
    log("edited agency %s: %s", agency.code, changed)
    flash(f"已保存单位：{agency.name}", "info")
    return redirect(url_for("admin.agencies"))


@bp.post("/agencies/<int:agency_id>/active")
def agency_active(agency_id: int):
    ctx = request_context()
    active = request.form.get("active") == "1"
    try:
        agency = directory.set_agency_active(
            ctx, agency_id, active, ruleset=current_app.extensions["hotline.rules"].rules
        )
    except NotFound:
        abort(404)
    except HotlineError as exc:
        db.session.rollback()
        flash(errors_of(exc).popitem()[1], "error")
        return redirect(url_for("admin.agencies"))
    db.session.commit()
    log("%s agency %s", "reactivated" if active else "deactivated", agency.code)
    flash(f"已{'启用' if active else '停用'}单位：{agency.name}", "info")
    return redirect(url_for("admin.agencies"))


# --- users ------------------------------------------------------------------------------


@bp.get("/users")
def users():
    ctx = request_context()
    role = request.args.get("role") or None
    try:
        agency_id = _number(request.args.get("agency"), "agency")
        items = directory.list_users(ctx, role=role, agency_id=agency_id)
    except HotlineError as exc:
        abort(400, errors_of(exc).popitem()[1])
    return render_template(
        "admin/users.html",
        users=items,
        roles=ROLES,
        agencies=directory.list_agencies(ctx),
        role=role,
        agency_id=agency_id,
        section="users",
    )


def _user_values(user: User) -> dict[str, str]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "agency": str(user.agency_id or ""),
        "marker": directory.fingerprint(user),
    }


def _user_form(
    ctx: Context,
    user: User | None,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    status: int = 200,
):
    return (
        render_template(
            "admin/user_form.html",
            user=user,
            values=values,
            errors=errors,
            roles=ROLES,
            agencies=directory.list_agencies(ctx, active_only=True),
            min_password=directory.MIN_PASSWORD_LENGTH,
            section="users",
        ),
        status,
    )


def _agency_choice(ctx: Context, raw: str | None) -> Agency | None:
    agency_id = _number(raw, "agency")
    return None if agency_id is None else directory.find_agency(ctx, agency_id)


def _new_password(form: Mapping[str, str]) -> str:
    password = form.get("password", "")
    if password != form.get("password_confirm", ""):
        raise ValidationError("password_confirm", "两次输入的密码不一致")
    return password


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    ctx = request_context()
    if request.method == "GET":
        return _user_form(ctx, None, {"role": Role.AGENCY_STAFF.value}, {})
    form = request.form
    try:
        user = directory.create_user(
            ctx,
            username=_text(form, "username"),
            display_name=_text(form, "display_name"),
            role=_text(form, "role"),
            agency=_agency_choice(ctx, form.get("agency")),
            password=_new_password(form),
        )
    except HotlineError as exc:
        db.session.rollback()
        return _user_form(ctx, None, form, errors_of(exc), 422)
    db.session.commit()
    log("created user %s (%s, agency %s)", user.username, user.role.value, user.agency_id)
    flash(f"已新建用户：{user.display_name}（{user.username}）", "info")
    return redirect(url_for("admin.users"))


def _user_or_404(ctx: Context, user_id: int) -> User:
    try:
        return directory.get_user(ctx, user_id)
    except NotFound:
        abort(404)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def user_edit(user_id: int):
    ctx = request_context()
    user = _user_or_404(ctx, user_id)
    if request.method == "GET":
        return _user_form(ctx, user, _user_values(user), {})
    form = request.form
    before = _user_values(user)
    try:
        directory.update_user(
            ctx,
            user_id,
            expected=form.get("marker", ""),
            display_name=_text(form, "display_name"),
            role=_text(form, "role"),
            agency=_agency_choice(ctx, form.get("agency")),
        )
    except ConflictError as exc:
        db.session.rollback()
        user = _user_or_404(ctx, user_id)
        return _user_form(ctx, user, _user_values(user), {"conflict": exc.message}, 409)
    except HotlineError as exc:
        db.session.rollback()
        user = _user_or_404(ctx, user_id)
        return _user_form(ctx, user, {**form, "username": user.username}, errors_of(exc), 422)
    db.session.commit()
    after = _user_values(user)
    changed = {k: (before[k], after[k]) for k in after if k != "marker" and before[k] != after[k]}
    log("edited user %s: %s", user.username, changed)
    flash(f"已保存用户：{user.display_name}", "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
def user_active(user_id: int):
    ctx = request_context()
    active = request.form.get("active") == "1"
    try:
        user = directory.set_user_active(ctx, user_id, active)
    except NotFound:
        abort(404)
    except HotlineError as exc:
        db.session.rollback()
        flash(errors_of(exc).popitem()[1], "error")
        return redirect(url_for("admin.users"))
    db.session.commit()
    log("%s user %s", "reactivated" if active else "deactivated", user.username)
    flash(f"已{'启用' if active else '停用'}用户：{user.display_name}", "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/password")
def user_password(user_id: int):
    ctx = request_context()
    user = _user_or_404(ctx, user_id)
    try:
        directory.reset_password(ctx, user_id, _new_password(request.form))
    except HotlineError as exc:
        db.session.rollback()
        user = _user_or_404(ctx, user_id)
        return _user_form(ctx, user, _user_values(user), errors_of(exc), 422)
    db.session.commit()
    if user.id == current_user.user_id:
        from hotline.web.auth import refresh_session_user

        refresh_session_user(user)  # the admin's own session would end with the old password
    log("reset the password of %s", user.username)
    flash(f"已重置 {user.display_name} 的密码；其已登录的会话随之失效", "info")
    return redirect(url_for("admin.user_edit", user_id=user_id))


from hotline.web import admin_rules  # noqa: E402, F401  (registers its routes on bp)
