"""jieba word segmentation with the project's domain dictionary, built once per process.

``tokenize`` is a plain module-level function so fitted scikit-learn pipelines that use it
pickle by reference, and a loaded model shares the one process-wide tokenizer.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

USER_DICT = Path(__file__).with_name("resources") / "userdict.txt"
_STOP = frozenset(" \t\n，。！？、；：,.!?;:“”\"'‘’（）()【】[]…—-~～")

_lock = threading.Lock()
_tokenizer = None


def _get():
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                tokenizer.load_userdict(str(USER_DICT))
                _tokenizer = tokenizer
    return _tokenizer


def warm_up() -> None:
    """Load the dictionary now (at process start) rather than on the first request."""
    _get()


def tokenize(text: str) -> list[str]:
    """Words of an already-normalised text, punctuation and spaces dropped.

    HMM new-word discovery is off: it costs ~3x the time and invents unstable tokens on
    ASR text; the user dictionary covers the domain words that matter.
    """
    return [w for w in _get().lcut(text, HMM=False) if w not in _STOP]


def word_boundaries(text: str) -> frozenset[int]:
    """The offsets in ``text`` where a jieba word starts or ends (0 and len(text) included):
    a keyword that should match whole words only must start and end on one of these."""
    cuts = {0, len(text)}
    for _word, start, end in _get().tokenize(text, HMM=False):
        cuts.update((start, end))
    return frozenset(cuts)
