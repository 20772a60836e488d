"""Agencies and users: creating them and finding them by what people type."""

from __future__ import annotations

import re

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hotline.domain.errors import UnknownAgency, ValidationError
from hotline.domain.text import clean_phone, clean_text
from hotline.domain.vocabulary import AgencyKind, Role
from hotline.models import Agency, User
from hotline.services.context import Context

_hasher = PasswordHasher()
_CODE = re.compile(r"^[a-z0-9][a-z0-9_\-]{1,31}$")
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("password", f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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
    role = Role.parse(role, "role")
    if role is Role.SYSTEM:
        raise ValidationError("role", "“系统”角色不能登录")
    if role is Role.AGENCY_STAFF and agency is None:
        raise ValidationError("agency", "承办单位人员必须属于一个承办单位")
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
