"""The shipped model and the shipped rules together, on the calls that once went wrong: danger
behind a civic topic word reaches 110 and says why; harmless words that sound like danger do
not send a civic matter to 110."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from classifier import artifacts
from hotline.domain.calendar import WorkingCalendar
from hotline.rules.engine import CallFacts, Classification, route
from hotline.rules.evaluation import reaches_police
from hotline.rules.schema import load_rules

pytestmark = pytest.mark.skipif(not artifacts.DEFAULT_MODEL.exists(), reason="no shipped model")

RULES = Path(__file__).resolve().parents[2] / "routing_rules.yaml"


@pytest.fixture(scope="module")
def routed():
    from classifier.predict import Classifier

    classifier, rules = Classifier.load(), load_rules(RULES)

    def run(text: str):
        prediction = classifier.predict(text)
        call = CallFacts(text, datetime(2026, 3, 10, 4, 0, tzinfo=UTC))
        return route(call, Classification.of(prediction), rules, WorkingCalendar())

    return run


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("公交车上有个男的刚才偷了旁边阿姨的手机，现在还在车上", "警情优先"),
        ("网约车司机把我拉到郊区了，车门锁着不让我下车", "S-CONFINED"),
        ("学校门口有个陌生男的一直跟着我女儿，还想拉她上车", "S-CHILD-APPROACHED"),
        ("工地上包工头带了几个人把讨薪的工人围起来打", "警情优先"),
        ("网上买东西的客服让我下载一个软件退款，然后我银行卡里的钱全没了", "警情优先"),
        ("卡车将多盏路灯撞坏后逃逸", "S-ACCIDENT"),
        ("两家邻居吵起来了，现在一个拿着铁锹说要拼命", "S-ARMED"),
        ("前面那辆车把我逼停了，下来几个人在砸车", "S-ROAD-RAGE"),
    ],
)
def test_danger_behind_a_topic_word_reaches_police_and_says_why(routed, text, why) -> None:
    decision = routed(text)
    assert reaches_police(decision), decision.explanation
    assert why in decision.explanation


@pytest.mark.parametrize(
    "text",
    [
        "服装店天天喊跳楼价，吵死了",
        "网上买的菜刀用了两次就断了，商家不给退",
        "推销的天天打我电话，烦死了",
        "楼下装修每天被打扰，睡不着",
        "快递把我的包裹弄丢了，客服一直推脱",
    ],
)
def test_police_sounding_words_in_a_civic_matter_do_not_reach_police(routed, text) -> None:
    decision = routed(text)
    assert not reaches_police(decision), decision.explanation
