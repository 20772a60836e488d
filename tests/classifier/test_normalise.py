from __future__ import annotations

import opencc
import pytest

from classifier.normalise import MASK_TOKEN, has_chinese, normalise
from classifier.tokenize import tokenize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("我家樓下有人打架，快點來", "我家楼下有人打架,快点来"),
        ("ＡＢＣ１２３　井盖", "ABC123 井盖"),
        ("报警人称：有人抢包", "有人抢包"),
        ("来电人反映：路灯不亮", "路灯不亮"),
        ("喂喂 嗯 我们小区停水了", "我们小区停水了"),
        ("那个那个那个 井盖松了", "那个 井盖松了"),
        ("快来！！！！有人落水？？", "快来!有人落水?"),
        ("   ", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_masked_numbers_become_one_token() -> None:
    text = normalise("他电话138****5678，车牌湘A·1**23")
    assert text.count(MASK_TOKEN.strip()) == 2
    assert "掩码号" in tokenize(text)


def test_domain_words_stay_whole() -> None:
    words = tokenize(normalise("他让我把钱转到安全账户，还有渣土车压坏了井盖"))
    for word in ("安全账户", "渣土车", "井盖"):
        assert word in words


def test_tokenize_drops_punctuation() -> None:
    assert tokenize("快跑, 有人!") == ["快", "跑", "有人"]


def test_traditional_and_simplified_normalise_alike() -> None:
    to_traditional = opencc.OpenCC("s2t")
    for text in ("楼道里煤气味很重，好像漏气了", "护照过期了怎么换", "老板欠了我三个月工资"):
        assert normalise(to_traditional.convert(text)) == normalise(text)


def test_has_chinese() -> None:
    assert has_chinese("abc 井") and not has_chinese("hello 123 !!")
