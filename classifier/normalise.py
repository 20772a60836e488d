"""Text normalisation: what a transcript looks like before it is tokenised.

Traditional → simplified (OpenCC), full-width → half-width (NFKC), ASR fillers and operator
prefixes removed, masked digits kept as one token, whitespace and punctuation tidied. The
same function runs at training and at prediction time, so both see the same text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_CHARS = 20_000
MASK_TOKEN = " 掩码号 "  # one token for 138****5678, 湘A·1**23: the mask says "a number was here"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Call-taker and ASR boilerplate at the start of a record says nothing about the matter.
_PREFIX = re.compile(
    r"^\s*(?:报警人|来电人|来电者|市民|群众|求助人|投诉人|举报人)?"
    r"(?:来电)?(?:称|反映|报称|表示|求助|投诉|举报|说)[:：，,]?\s*"
)
_FILLERS = re.compile(
    r"(?:嗯+|呃+|额+|唔+|哎呀|那个那个|这个这个|就是说|喂+)(?=[\s，,。.！!？?、…]|$)?"
)
_REPEATED_FILLER = re.compile(r"(那个|这个|就是|然后){2,}")
_MASKED = re.compile(r"[0-9A-Za-z·\-]*\*{2,}[0-9A-Za-z·\-]*")
_PUNCT_RUN = re.compile(r"([，。！？、,.!?~～…])\1+")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def has_chinese(text: str) -> bool:
    return _CJK.search(text) is not None


def normalise(text: str) -> str:
    """Return the canonical form of a transcript (may be empty if nothing meaningful is left)."""
    text = unicodedata.normalize("NFKC", text)
    text = _t2s().convert(text)
    text = _MASKED.sub(MASK_TOKEN, text)
    text = _PREFIX.sub("", text, count=1)
    text = _REPEATED_FILLER.sub(r"\1", text)
    text = _FILLERS.sub(" ", text)
    text = _PUNCT_RUN.sub(r"\1", text)
    return _SPACE.sub(" ", text).strip()
