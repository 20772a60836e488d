"""Attachments on tickets (现场照片, 答复函): size- and type-limited, checked by their bytes.

The declared content type and file name of an upload are not trusted: the type is read from
the file's first bytes, and only formats agencies actually send are taken. The bytes are
stored in the database with the ticket, so they are backed up and rolled back together.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa

from hotline.domain.errors import NotFound, PermissionDenied, ValidationError
from hotline.domain.vocabulary import Role
from hotline.models import Attachment, TicketAgency
from hotline.services.context import Context
from hotline.services.tickets import get_ticket

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS_PER_TICKET = 20
MAX_FILENAME_CHARS = 120


@dataclass(frozen=True)
class Kind:
    content_type: str
    extensions: tuple[str, ...]
    magic: tuple[bytes, ...]


KINDS = (
    Kind("image/jpeg", ("jpg", "jpeg"), (b"\xff\xd8\xff",)),
    Kind("image/png", ("png",), (b"\x89PNG\r\n\x1a\n",)),
    Kind("application/pdf", ("pdf",), (b"%PDF-",)),
    # Office documents are zip containers; the extension says which.
    Kind(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ("docx",),
        (b"PK\x03\x04",),
    ),
    Kind(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ("xlsx",),
        (b"PK\x03\x04",),
    ),
)
ALLOWED_EXTENSIONS = tuple(ext for kind in KINDS for ext in kind.extensions)


def clean_filename(raw: str | None) -> str:
    """The name as shown and offered on download: no path, no control characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if not name:
        raise ValidationError("file", "请选择要上传的文件")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_FILENAME_CHARS - len(ext) - 1] + dot + ext) if dot else name[:120]
    return name


def detect(filename: str, content: bytes) -> Kind:
    ext = filename.rpartition(".")[2].lower() if "." in filename else ""
    for kind in KINDS:
        if ext in kind.extensions:
            if not content.startswith(kind.magic):
                raise ValidationError("file", f"文件内容与扩展名 .{ext} 不符")
            return kind
    allowed = "、".join(ALLOWED_EXTENSIONS)
    raise ValidationError("file", f"不支持的文件类型，仅限：{allowed}")


def can_upload(ctx: Context, lead_agency_id: int | None, ticket_id: int) -> bool:
    """The 12345 side and the agencies doing the work; agencies that only read along may not."""
    role = ctx.actor.role
    if role in (Role.SUPERVISOR, Role.CALL_TAKER):
        return True
    if role is not Role.AGENCY_STAFF:
        return False
    if lead_agency_id == ctx.actor.agency_id:
        return True
    link = ctx.db.get(TicketAgency, (ticket_id, ctx.actor.agency_id))
    return link is not None and link.role.value == "assisting"


def add(ctx: Context, ticket_id: int, *, filename: str | None, content: bytes) -> Attachment:
    ticket = get_ticket(ctx, ticket_id)
    if not can_upload(ctx, ticket.lead_agency_id, ticket.id):
        raise PermissionDenied("只有承办、协办单位和热线中心可以上传附件")
    name = clean_filename(filename)
    if not content:
        raise ValidationError("file", "文件为空")
    if len(content) > MAX_ATTACHMENT_BYTES:
        limit = MAX_ATTACHMENT_BYTES // 2**20
        raise ValidationError("file", f"文件过大，单个附件不超过 {limit} MB")
    kind = detect(name, content)
    existing = ctx.db.scalar(
        sa.select(sa.func.count()).select_from(Attachment).where(Attachment.ticket_id == ticket.id)
    )
    if (existing or 0) >= MAX_ATTACHMENTS_PER_TICKET:
        raise ValidationError("file", f"每张工单最多 {MAX_ATTACHMENTS_PER_TICKET} 个附件")
    attachment = Attachment(
        ticket_id=ticket.id,
        filename=name,
        content_type=kind.content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by_id=ctx.actor.user_id,
        uploaded_at=ctx.now,
    )
    ctx.db.add(attachment)
    ctx.db.flush()
    return attachment


def list_for(ctx: Context, ticket_id: int) -> list[Attachment]:
    """Without the bytes (deferred): the page lists names and sizes."""
    return list(
        ctx.db.scalars(
            sa.select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id)
        )
    )


def get(ctx: Context, ticket_id: int, attachment_id: int) -> Attachment:
    """An attachment of a ticket the actor may see; anything else is 'not found'."""
    ticket = get_ticket(ctx, ticket_id)
    attachment = ctx.db.get(Attachment, attachment_id) if 1 <= attachment_id < 2**63 else None
    if attachment is None or attachment.ticket_id != ticket.id:
        raise NotFound(f"附件 {attachment_id} 不存在")
    return attachment
