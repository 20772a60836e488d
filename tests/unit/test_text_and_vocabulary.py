from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.domain.clock import FixedClock, ensure_aware, to_local
from hotline.domain.errors import ValidationError
from hotline.domain.text import MAX_TRANSCRIPT_CHARS, clean_phone, clean_text
from hotline.domain.vocabulary import Nature, Satisfaction, Urgency


def test_clean_text_strips_and_keeps_newlines() -> None:
    assert clean_text("  第一行\n第二行 ", "t", max_chars=100) == "第一行\n第二行"


@pytest.mark.parametrize("value", [None, "", "   \n\t"])
def test_required_text_must_be_present(value) -> None:
    with pytest.raises(ValidationError) as info:
        clean_text(value, "transcript", max_chars=10)
    assert info.value.field == "transcript"


def test_optional_blank_text_becomes_none() -> None:
    assert clean_text("  ", "note", max_chars=10, required=False) is None


def test_over_long_transcript_is_refused_not_truncated() -> None:
    text = "报" * (MAX_TRANSCRIPT_CHARS + 1)
    with pytest.raises(ValidationError, match="20000"):
        clean_text(text, "transcript", max_chars=MAX_TRANSCRIPT_CHARS)
    assert clean_text(text[:-1], "transcript", max_chars=MAX_TRANSCRIPT_CHARS) == text[:-1]


@pytest.mark.parametrize("bad", ["abc\x00def", "bell\x07", "esc\x1b[31m", "c1\x85mid"])
def test_control_characters_are_refused_with_position(bad: str) -> None:
    with pytest.raises(ValidationError, match="控制字符"):
        clean_text(bad, "transcript", max_chars=100)


def test_non_text_is_refused() -> None:
    with pytest.raises(ValidationError, match="应为文本"):
        clean_text(b"bytes", "note", max_chars=10)


def test_single_line_fields_refuse_newlines() -> None:
    with pytest.raises(ValidationError, match="换行"):
        clean_text("a\nb", "summary", max_chars=10, single_line=True)


@pytest.mark.parametrize(
    "number", ["13812345678", "138****5678", "+86 138 1234 5678", "0731-88001234"]
)
def test_phone_numbers_accept_masked_and_formatted(number: str) -> None:
    assert clean_phone(number) == number


@pytest.mark.parametrize("number", ["call me", "12", "1381234567x"])
def test_phone_numbers_refuse_garbage(number: str) -> None:
    with pytest.raises(ValidationError):
        clean_phone(number)


def test_labelled_enums_parse_value_or_chinese_label() -> None:
    assert Urgency.parse("紧急", "urgency") is Urgency.URGENT
    assert Nature.parse("complaint", "nature") is Nature.COMPLAINT
    with pytest.raises(ValidationError, match="一般"):
        Urgency.parse("very", "urgency")


def test_satisfaction_scale() -> None:
    assert [s.score for s in Satisfaction] == [5, 4, 3, 2, 1]
    assert [s.is_satisfied for s in Satisfaction] == [True, True, True, False, False]


def test_urgency_rank_orders_most_pressing_first() -> None:
    assert sorted(Urgency, key=lambda u: u.rank) == [
        Urgency.CRITICAL,
        Urgency.URGENT,
        Urgency.NORMAL,
    ]


def test_clock_refuses_naive_and_moves_only_when_told() -> None:
    with pytest.raises(ValueError):
        ensure_aware(datetime(2026, 1, 1))
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now()
    clock.advance(hours=2)
    assert clock.now() == datetime(2026, 1, 1, 2, tzinfo=UTC)
    assert to_local(clock.now()).hour == 10
    clock.advance(timedelta(days=1))
    assert clock.now().day == 2


def test_lone_surrogates_from_bad_bytes_are_refused() -> None:
    broken = b"\xff\xfe\xe6\x9c\x89\xe4\xba\xba".decode("utf-8", "surrogateescape")
    with pytest.raises(ValidationError, match="UTF-8"):
        clean_text(broken, "transcript", max_chars=100)


@pytest.mark.parametrize(
    ("raw", "digits", "expected"),
    [
        ("42", 9, 42),
        ("0", 9, 0),
        ("123456789", 9, 123456789),
        ("1234567890", 9, None),  # longer than allowed
        ("²", 9, None),  # a digit to isdigit(), not to int()
        ("１", 9, None),  # full-width: int() would accept it
        ("-1", 9, None),
        (" 1", 9, None),
        ("", 9, None),
    ],
)
def test_ascii_number(raw: str, digits: int, expected: int | None) -> None:
    from hotline.domain.text import ascii_number

    assert ascii_number(raw, digits) == expected
