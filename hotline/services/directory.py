"""Agencies and users: creating them and finding them by what people type."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import cast

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from hotline.domain.errors import (
    ConflictError,
    PermissionDenied,
    UnknownAgency,
    UnknownUser,
    ValidationError,
)
from hotline.domain.text import clean_phone, clean_text
from hotline.domain.vocabulary import AgencyKind, Role
from hotline.models import Agency, User
from hotline.rules.schema import RuleSet
from hotline.services.context import Context

_hasher = PasswordHasher()
_CODE = re.compile(r"^[a-z0-9][a-z0-9_\-]{1,31}$")
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("password", f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) a stand-in hash is checked all the same,
    so an unknown name takes as long to refuse as a wrong password."""
    try:
        return _hasher.verify(password_hash or _stand_in_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


_stand_in: tuple[PasswordHasher, str] | None = None


def _stand_in_hash() -> str:
    # Made once per hasher, with the same parameters as real hashes so it costs the same.
    global _stand_in
    if _stand_in is None or _stand_in[0] is not _hasher:
        _stand_in = (_hasher, _hasher.hash(secrets.token_hex(16)))
    return _stand_in[1]


def create_agency(
    ctx: Context,
    *,
    code: str,
    name: str,
    kind: AgencyKind | str,
    parent: Agency | None = None,
    district: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    email: str | None = None,
) -> Agency:
    code = clean_text(code, "code", max_chars=32, single_line=True) or ""
    if not _CODE.match(code):
        raise ValidationError("code", "只能由小写字母、数字、-、_ 组成，2–32 位")
    name = clean_text(name, "name", max_chars=100, single_line=True) or ""
    for column, value in ((Agency.code, code), (Agency.name, name)):
        if ctx.db.scalar(sa.select(Agency.id).where(column == value)) is not None:
            raise ValidationError(column.key, f"已存在：{value}")
    agency = Agency(
        code=code,
        name=name,
        kind=AgencyKind.parse(kind, "kind"),
        parent=parent,
        district=clean_text(district, "district", max_chars=50, required=False, single_line=True),
        contact_name=clean_text(
            contact_name, "contact_name", max_chars=50, required=False, single_line=True
        ),
        contact_phone=clean_phone(contact_phone, "contact_phone"),
        email=clean_email(email),
        created_at=ctx.now,
    )
    ctx.db.add(agency)
    ctx.db.flush()
    return agency


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean_email(value: str | None, field: str = "email") -> str | None:
    """A plausible address or nothing; delivery problems beyond that are the outbox's job."""
    text = clean_text(value, field, max_chars=254, required=False, single_line=True)
    if text and not _EMAIL.match(text):
        raise ValidationError(field, f"电子邮箱格式不正确：{text}")
    return text


def find_agency(ctx: Context, ref: int | str, field: str = "agency") -> Agency:
    """Find an active agency by id, code or exact name; an unknown one is a clear error."""
    query = sa.select(Agency).where(Agency.is_active.is_(True))
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        agency = ctx.db.scalar(query.where(Agency.id == int(ref)))
    else:
        text = str(ref).strip()
        agency = ctx.db.scalar(query.where(sa.or_(Agency.code == text, Agency.name == text)))
    if agency is None:
        raise UnknownAgency(f"{field}: 未知的承办单位 {ref!r}", field=field, value=str(ref))
    return agency


def create_user(
    ctx: Context,
    *,
    username: str,
    display_name: str,
    role: Role | str,
    password: str,
    agency: Agency | None = None,
) -> User:
    username = clean_text(username, "username", max_chars=64, single_line=True) or ""
    if not _CODE.match(username):
        raise ValidationError("username", "只能由小写字母、数字、-、_ 组成，2–32 位")
    role = cast(Role, Role.parse(role, "role"))
    _check_role_and_agency(role, agency)
    if ctx.db.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise ValidationError("username", f"已存在：{username}")
    user = User(
        username=username,
        display_name=clean_text(display_name, "display_name", max_chars=64, single_line=True),
        role=role,
        agency=agency,
        password_hash=hash_password(password),
        created_at=ctx.now,
    )
    ctx.db.add(user)
    ctx.db.flush()
    return user


# --- administration: editing, (de)activating, passwords ---------------------------------
#
# Agencies and users are never deleted: tickets, events and transfers point at them.

_EDITABLE_AGENCY = (
    "name",
    "kind",
    "parent_id",
    "district",
    "contact_name",
    "contact_phone",
    "email",
)
_EDITABLE_USER = ("display_name", "role", "agency_id")


def fingerprint(record: Agency | User) -> str:
    """A marker of the editable fields as they are now. An edit form carries the marker it was
    made from; if the record changed since, the edit is refused instead of overwriting."""
    names = _EDITABLE_AGENCY if isinstance(record, Agency) else _EDITABLE_USER
    values = [str(getattr(record, name)) for name in names]
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:16]


def _require_admin(ctx: Context) -> None:
    if ctx.actor.role not in (Role.ADMIN, Role.SYSTEM):
        raise PermissionDenied("只有系统管理员可以修改单位和用户")


def _check_fresh(record: Agency | User, expected: str | None) -> None:
    if expected is not None and expected != fingerprint(record):
        raise ConflictError("该记录已被他人修改，请核对当前内容后重新提交", field="conflict")


def get_agency(ctx: Context, agency_id: int) -> Agency:
    """Any agency, active or not (find_agency only finds active ones)."""
    agency = ctx.db.get(Agency, agency_id)
    if agency is None:
        raise UnknownAgency(f"未知的承办单位 {agency_id}", field="agency", value=str(agency_id))
    return agency


def list_agencies(ctx: Context, *, active_only: bool = False) -> list[Agency]:
    query = sa.select(Agency).order_by(Agency.is_active.desc(), Agency.code)
    if active_only:
        query = query.where(Agency.is_active.is_(True))
    return list(ctx.db.scalars(query))


def update_agency(
    ctx: Context,
    agency_id: int,
    *,
    expected: str | None,
    name: str,
    kind: AgencyKind | str,
    parent_id: int | None = None,
    district: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    email: str | None = None,
) -> Agency:
    """Change what people see of an agency. Its code stays: routing rules name it."""
    _require_admin(ctx)
    agency = get_agency(ctx, agency_id)
    _check_fresh(agency, expected)
    name = clean_text(name, "name", max_chars=100, single_line=True) or ""
    clash = ctx.db.scalar(sa.select(Agency.id).where(Agency.name == name, Agency.id != agency.id))
    if clash is not None:
        raise ValidationError("name", f"已存在：{name}")
    parent = None
    if parent_id is not None:
        parent = ctx.db.get(Agency, parent_id)
        if parent is None:
            raise ValidationError("parent_id", "未知的上级单位")
        ancestor: Agency | None = parent
        while ancestor is not None:  # a parent chain must end, not come back round
            if ancestor.id == agency.id:
                raise ValidationError("parent_id", "上级单位不能是本单位或其下级单位")
            ancestor = ancestor.parent
    agency.name = name
    agency.kind = AgencyKind.parse(kind, "kind")
    agency.parent = parent
    agency.district = clean_text(
        district, "district", max_chars=50, required=False, single_line=True
    )
    agency.contact_name = clean_text(
        contact_name, "contact_name", max_chars=50, required=False, single_line=True
    )
    agency.contact_phone = clean_phone(contact_phone, "contact_phone")
    agency.email = clean_email(email)
    ctx.db.flush()
    return agency


def rules_naming(ruleset: RuleSet, code: str) -> list[str]:
    """Where the routing rules in force send work to this agency: rule ids, "default", or the
    line ("lines.110") it answers."""
    places = [f"lines.{line}" for line, agency in ruleset.lines.items() if agency == code]
    actions = [(rule.id, rule.action) for rule in ruleset.all_rules()]
    for place, action in [*actions, ("default", ruleset.default)]:
        if code in (action.lead_agency, *action.assisting, *action.informed):
            places.append(place)
    return places


def set_agency_active(
    ctx: Context, agency_id: int, active: bool, *, ruleset: RuleSet | None = None
) -> Agency:
    """Deactivate (no new tickets can be sent to it, its tickets stay) or reactivate. An agency
    the routing rules in force still send work to cannot be deactivated: every call those rules
    route there would fail."""
    _require_admin(ctx)
    agency = get_agency(ctx, agency_id)
    if not active and ruleset is not None:
        used = rules_naming(ruleset, agency.code)
        if used:
            raise ValidationError(
                "is_active", f"路由规则仍把工单派给该单位（{'、'.join(used)}），请先修改规则"
            )
    agency.is_active = active
    ctx.db.flush()
    return agency


def get_user(ctx: Context, user_id: int) -> User:
    user = ctx.db.get(User, user_id)
    if user is None:
        raise UnknownUser(f"未知的用户 {user_id}", field="user", value=str(user_id))
    return user


def list_users(
    ctx: Context, *, role: Role | str | None = None, agency_id: int | None = None
) -> list[User]:
    query = sa.select(User).order_by(User.is_active.desc(), User.username)
    if role:
        query = query.where(User.role == Role.parse(role, "role"))
    if agency_id is not None:
        query = query.where(User.agency_id == agency_id)
    return list(ctx.db.scalars(query))


def _check_role_and_agency(role: Role, agency: Agency | None) -> None:
    if role is Role.SYSTEM:
        raise ValidationError("role", "“系统”角色不能登录")
    if role is Role.AGENCY_STAFF and agency is None:
        raise ValidationError("agency", "承办单位人员必须属于一个承办单位")
    if role is Role.ADMIN and agency is not None:
        raise ValidationError("agency", "系统管理员不属于任何承办单位，请留空")
    if agency is not None and not agency.is_active:
        raise ValidationError("agency", f"单位已停用：{agency.name}")


def _keep_an_admin(ctx: Context, user: User) -> None:
    """Refuse to take away the last active administrator: nobody could manage users then."""
    if user.role is not Role.ADMIN or not user.is_active:
        return
    # Locked rows: two admins demoting each other at once cannot both pass this check.
    others = ctx.db.scalars(
        sa.select(User.id)
        .where(User.role == Role.ADMIN, User.is_active.is_(True), User.id != user.id)
        .with_for_update()
    ).all()
    if not others:
        raise ValidationError("role", "这是最后一个在用的系统管理员，不能停用或改为其他角色")


def update_user(
    ctx: Context,
    user_id: int,
    *,
    expected: str | None,
    display_name: str,
    role: Role | str,
    agency: Agency | None,
) -> User:
    _require_admin(ctx)
    user = get_user(ctx, user_id)
    _check_fresh(user, expected)
    new_role = cast(Role, Role.parse(role, "role"))
    _check_role_and_agency(new_role, agency)
    if new_role is not user.role:
        if user.id == ctx.actor.user_id:
            raise ValidationError("role", "不能修改自己的角色")
        _keep_an_admin(ctx, user)
    user.display_name = clean_text(display_name, "display_name", max_chars=64, single_line=True)
    user.role = new_role
    user.agency = agency
    ctx.db.flush()
    return user


def set_user_active(ctx: Context, user_id: int, active: bool) -> User:
    """Deactivating ends the user's sessions at their next request (the user loader checks)."""
    _require_admin(ctx)
    user = get_user(ctx, user_id)
    if not active:
        if user.id == ctx.actor.user_id:
            raise ValidationError("is_active", "不能停用自己的账号")
        try:
            _keep_an_admin(ctx, user)
        except ValidationError as exc:
            raise ValidationError("is_active", exc.message.removeprefix("role: ")) from None
    elif user.agency is not None and not user.agency.is_active:
        raise ValidationError("is_active", f"所属单位已停用：{user.agency.name}，请先更换单位")
    user.is_active = active
    ctx.db.flush()
    return user


def reset_password(ctx: Context, user_id: int, password: str) -> User:
    """A new password; the user's existing sessions end with the old one."""
    _require_admin(ctx)
    user = get_user(ctx, user_id)
    if len(password) > 256:
        raise ValidationError("password", "密码过长（上限 256 位）")
    user.password_hash = hash_password(password)
    ctx.db.flush()
    return user


def end_sessions(db: Session, user_id: int) -> None:
    """End every session of a user (log-out): the session epoch in their session ids moves on.
    One UPDATE, so two log-outs at once both count."""
    db.execute(
        sa.update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1)
    )
