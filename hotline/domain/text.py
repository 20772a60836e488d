"""Checks for free text that people type or speech recognition produces."""

from __future__ import annotations

import re

from hotline.domain.errors import ValidationError

MAX_TRANSCRIPT_CHARS = 20_000

# C0/C1 controls except tab, newline, carriage return; they corrupt exports and terminals.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(
    value: object,
    field: str,
    *,
    max_chars: int,
    required: bool = True,
    single_line: bool = False,
) -> str | None:
    """Strip surrounding space and refuse what must not be stored; never silently truncate."""
    if value is None:
        if required:
            raise ValidationError(field, "必填")
        return None
    if not isinstance(value, str):
        raise ValidationError(field, "应为文本")
    text = value.strip()
    if not text:
        if required:
            raise ValidationError(field, "不能为空")
        return None
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(field, "含有无效的字符编码（不是有效的 UTF-8 文本）") from None
    bad = _CONTROL.search(text)
    if bad:
        raise ValidationError(
            field, f"含有不可见控制字符 U+{ord(bad.group()):04X}（第 {bad.start() + 1} 个字符）"
        )
    if single_line and ("\n" in text or "\r" in text):
        raise ValidationError(field, "不能换行")
    if len(text) > max_chars:
        raise ValidationError(field, f"过长：{len(text)} 字，上限 {max_chars} 字")
    return text


_PHONE = re.compile(r"^\+?[0-9*][0-9*\- ]{2,23}$")


def clean_phone(value: object, field: str = "caller_number") -> str | None:
    """Phone numbers may be masked (138****5678) or absent (anonymous caller)."""
    text = clean_text(value, field, max_chars=24, required=False, single_line=True)
    if text is None:
        return None
    if not _PHONE.match(text):
        raise ValidationError(field, f"电话号码格式不正确：{text!r}")
    return text


def ascii_number(raw: str, max_digits: int) -> int | None:
    """The value of up to ``max_digits`` ASCII digits, else None. Not ``isdigit()`` or
    ``int()`` alone: "²" is a digit that int() refuses, "１" a full-width one it accepts, and
    a long enough number overflows the database's bigint."""
    if raw.isascii() and raw.isdecimal() and len(raw) <= max_digits:
        return int(raw)
    return None
