"""How rules read Chinese text: keywords with exceptions, whole-word matching and a police
reading floor; keywords_none per occurrence; regexes folded like the transcript; and the
YAML and decision values a rules file may not get wrong silently."""

from __future__ import annotations

import pytest

from hotline.rules.engine import Classification
from hotline.rules.schema import RulesError
from tests.unit.test_rules import NON_POLICE, decide, problems, rules


def fires(when: str, text: str, c: Classification = NON_POLICE) -> bool:
    ruleset = rules(f"rules:\n  - {{id: R, when: {when}, then: {{decision: police}}}}\n")
    return decide(ruleset, text, c).rules == ("R",)


@pytest.mark.parametrize(
    ("when", "text", "expected"),
    [
        # an exception cancels only the occurrence inside it
        ("{keywords_any: [{word: 跳楼, except: [跳楼价]}]}", "门口天天喊跳楼价清仓", False),
        ("{keywords_any: [{word: 跳楼, except: [跳楼价]}]}", "他站在楼顶说要跳楼", True),
        ("{keywords_any: [{word: 跳楼, except: [跳楼价]}]}", "喊完跳楼价他就要跳楼", True),
        ("{keywords_any: [{word: 打我, except: [打我电话]}]}", "推销的天天打我电话", False),
        ("{keywords_any: [{word: 打我, except: [打我电话]}]}", "他打我，电话都被摔了", True),
        # exceptions are folded like the transcript
        ("{keywords_any: [{word: ＫＴＶ, except: [ktv音响店]}]}", "KTV音响店很吵", False),
        # whole jieba words only: 被打 is not a word of 被打扰
        ("{keywords_any: [{word: 被打, boundary: true}]}", "我们全家被打扰得睡不着", False),
        ("{keywords_any: [{word: 被打, boundary: true}]}", "我在楼下被打了", True),
        # a police-reading floor: the same word in a product complaint does not count
        ("{keywords_any: [{word: 菜刀, min_police_probability: 0.5}]}", "买的菜刀断了", False),
        (
            "{keywords_any: [{word: 菜刀, min_police_probability: 0.5}, 退款]}",
            "买的菜刀断了要退款",
            True,
        ),
        # keywords_all items take mappings and lists of alternatives too
        (
            '{keywords_all: ["拿着|举着", [砍刀, {word: 扳手, min_police_probability: 0.5}]]}',
            "师傅拿着扳手修水管",
            False,
        ),
        ('{keywords_all: ["拿着|举着", [砍刀, {word: 扳手}]]}', "他举着砍刀冲过来", True),
        # keywords_none: a phrase holding a keyword cancels that occurrence only ...
        ("{keywords_any: [刀], keywords_none: [刀削面]}", "刀削面馆里有人拿刀砍人", True),
        ("{keywords_any: [刀], keywords_none: [刀削面]}", "楼下刀削面馆太吵了", False),
        # ... and a phrase that holds none of them still vetoes the rule
        ("{keywords_any: [吵], keywords_none: [打架]}", "楼上很吵还在打架", False),
        ("{regex: ['刀'], keywords_none: [刀削面]}", "刀削面馆里有人拿刀", True),
        ("{regex: ['刀'], keywords_none: [刀削面]}", "刀削面馆开到半夜", False),
        # regexes are folded like the transcript: case and width
        ("{regex: ['KTV\\d号']}", "ｋｔｖ８号包厢太吵", True),
        ("{regex: ['ＫＴＶ']}", "楼下ktv太吵", True),
        # a full-width bracket in a pattern stays a literal, not a group
        ("{regex: ['（噪音）']}", "投诉(噪音)问题", True),
        ("{regex: ['（噪音）']}", "投诉噪音问题", False),
        # the transcript has no spaces, so neither does the pattern
        ("{regex: ['KTV 包厢']}", "ＫＴＶ 包厢太吵", True),
        # a space between Chinese characters is a pause: a keyword does not run across it ...
        ("{keywords_any: [打我]}", "推销的天天打电话 我拒绝了还打 我要投诉", False),
        ("{keywords_any: [打我]}", "他一直打我 我跑出来了", True),
        ("{keywords_any: [打我]}", "我拒绝了还打\u3000我要投诉", False),  # a full-width space
        ("{keywords_any: [公交车]}", "在公交 车上", False),
        # ... a space beside a Latin letter or a digit is only typography
        ("{keywords_any: [ktv包厢]}", "楼下KTV 包厢太吵", True),
        ("{keywords_any: [3号楼]}", "小区3 号楼着火了", True),
        # ... and a regex still reads the whole text
        ("{regex: ['还打我']}", "我拒绝了还打 我要投诉", True),
    ],
)
def test_keyword_and_pattern_matching(when: str, text: str, expected: bool) -> None:
    assert fires(when, text, Classification("non_police", 0.05)) is expected


def test_a_floor_counts_when_the_classifier_reads_police() -> None:
    when = "{keywords_any: [{word: 菜刀, min_police_probability: 0.5}]}"
    assert fires(when, "他拿菜刀站在门口", Classification("police", 0.9, "刑事", "政法"))
    # no reading at all (no model): the word counts, a safety word is never silenced by default
    assert fires(when, "他拿菜刀站在门口", Classification("review"))


def test_the_reason_names_the_keyword_that_counted() -> None:
    ruleset = rules(
        "rules:\n  - {id: R, when: {keywords_any: [{word: 跳楼, except: [跳楼价]}, 轻生]},"
        " then: {decision: police}}\n"
    )
    assert "关键词“轻生”" in decide(ruleset, "跳楼价清仓，老板说要轻生").explanation


def test_a_space_in_a_pattern_is_a_warning() -> None:
    ruleset = rules("rules:\n  - {id: R, when: {regex: ['KTV 包厢']}, then: {decision: police}}\n")
    assert any("含空格" in str(w) for w in ruleset.warnings)


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("{keywords_any: [{word: 跳楼, except: [清仓]}]}", "例外 '清仓' 不含关键词 '跳楼'"),
        ("{keywords_any: [{word: 菜刀, min_police_probability: 2}]}", "应在 0 到 1 之间"),
        ("{keywords_any: [{word: 菜刀, boundary: maybe}]}", "应为 true 或 false"),
        ("{keywords_any: [{word: 菜刀, colour: red}]}", "字段 colour：未知字段"),
        ("{keywords_any: [{except: [菜刀]}]}", "关键词应为文字"),
        ("{keywords_any: [[菜刀]]}", "无效的取值"),
        ("{decision: [emergency]}", "'emergency' 永远不会匹配；紧急求助请用 police_type"),
        ("{decision: [joint]}", "'joint' 永远不会匹配；联动是规则的处置"),
    ],
)
def test_keyword_and_decision_mistakes_are_named(when: str, message: str) -> None:
    found = problems(f"rules:\n  - {{id: R, when: {when}, then: {{decision: police}}}}\n")
    assert any(message in p for p in found), found


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "rules:\n  - {id: OFF, when: {keywords_any: [吵]}, then: {decision: police}}\n",
            "第 4 行，字段 id：YAML 会把不带引号的 OFF 读作布尔值（false），"
            '这里需要文字：请加引号写成 "OFF"',
        ),
        (
            "rules:\n  - {id: R, when: {keywords_any: [吵, no]}, then: {decision: police}}\n",
            "字段 keywords_any：YAML 会把不带引号的 no 读作布尔值（false），"
            '这里需要文字：请加引号写成 "no"',
        ),
        (
            "rules:\n  - {id: R, when: {district: [Yes]}, then: {decision: police}}\n",
            '请加引号写成 "Yes"',
        ),
    ],
)
def test_yaml_11_booleans_are_refused_where_words_belong(body: str, message: str) -> None:
    found = problems(body)
    assert any(message in p for p in found), found


def test_yaml_11_booleans_mean_booleans_where_booleans_belong_and_quoted_words_are_words() -> None:
    ruleset = rules(
        "rules:\n"
        "  - {id: 'OFF', when: {keywords_any: ['no']}, then: {decision: review,"
        " three_party_call: yes}}\n"
        "  - {id: OLD, enabled: no, when: {keywords_any: [吵]}, then: {decision: police}}\n"
    )
    assert [r.id for r in ruleset.rules] == ["OFF"]
    assert ruleset.rules[0].action.three_party_call is True
    assert decide(ruleset, "no").rules == ("OFF",)


def test_true_and_false_stay_booleans() -> None:
    with pytest.raises(RulesError) as info:
        rules("rules:\n  - {id: true, when: {keywords_any: [吵]}, then: {decision: police}}\n")
    assert "规则编号无效：True" in str(info.value)
