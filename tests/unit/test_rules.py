"""routing_rules.yaml: validation that names rule, field and line; the pure engine; the
shipped defaults of domain.md sections 2 and 6."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from hotline.demo.seed import AGENCIES
from hotline.domain.calendar import WorkingCalendar
from hotline.domain.clock import CHINA_TZ
from hotline.domain.deadlines import default_policies
from hotline.rules.engine import CallFacts, Classification, route
from hotline.rules.schema import Decision, RulesError, load_rules, parse_rules
from hotline.services.routing import RulesHolder

SHIPPED = Path(__file__).parents[2] / "routing_rules.yaml"
CODES = {code for code, *_ in AGENCIES}
POLICIES = set(default_policies().policies)
CN = WorkingCalendar.chinese()
TUESDAY_NOON = datetime(2026, 3, 10, 12, tzinfo=CHINA_TZ)
NON_POLICE = Classification("non_police", 0.01, None, "城乡建设", "城市建设和市政管理")
POLICE = Classification("police", 0.95, "治安", "政法", "社会治安")


def rules(body: str, **kwargs):
    return parse_rules("version: 3\ncity: 测试市\n" + body, **kwargs)


def problems(body: str, **kwargs) -> list[str]:
    with pytest.raises(RulesError) as info:
        rules(body, **kwargs)
    return [str(p) for p in info.value.problems]


def decide(ruleset, text: str, c: Classification = NON_POLICE, at=TUESDAY_NOON, **call):
    return route(CallFacts(text, at, **call), c, ruleset, CN)


# --- validation ------------------------------------------------------------------------


def test_every_problem_names_rule_field_and_line_and_all_are_reported() -> None:
    found = problems(
        """
rules:
  - id: R1
    when: {keywords_any: [吵], colour: red}
    then: {decision: non_police, destination: "12345:nowhere"}
  - id: R1
    when: {police_probability: {min: 0.9, max: 0.2}, regex: ["(unclosed"]}
    then: {decision: maybe}
""",
        agencies={"housing"},
    )
    assert "第 6 行，规则 R1，字段 colour：未知字段" in found[0]
    assert any("规则 R1，字段 destination：未知的单位编码 'nowhere'" in p for p in found)
    assert any("第 8 行，规则 R1，字段 id：规则编号重复" in p for p in found)
    assert any("min 不能大于 max" in p for p in found)
    assert any("正则表达式 '(unclosed' 有误" in p for p in found)
    assert any("无效的处置 'maybe'" in p for p in found)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            "{id: S1, enabled: false, when: {keywords_any: [刀]}, then: {decision: police}}",
            "安全规则不能停用",
        ),
        ("{id: S1, then: {decision: police}}", "安全规则必须有触发条件"),
        ("{id: S1, when: {keywords_any: [刀]}, then: {decision: non_police}}", "安全规则只能转"),
        (
            "{id: S1, when: {keywords_any: [火]}, then: {decision: emergency, destination: '110'}}",
            "去向应为 119、120、122",
        ),
        (
            "{id: S1, when: {keywords_any: [堵路]}, then: {decision: joint}}",
            "联动处置需同时生成 12345 工单",
        ),
        (
            "{id: S1, when: {time_of_day: {from: '25:00', to: '06:00'}, keywords_any: [x]},"
            " then: {decision: police}}",
            "时间格式应为 HH:MM",
        ),
        (
            "{id: S1, when: {urgency: [soon], keywords_any: [x]}, then: {decision: police}}",
            "无效的取值 'soon'",
        ),
        (
            "{id: S1, when: {keywords_any: [x]}, then: {decision: police, deadline_policy: fast}}",
            "未知的时限规则 'fast'",
        ),
        (
            "{id: S1, when: {regex: ['(a+)+$']}, then: {decision: police}}",
            "含嵌套的重复",
        ),
        (
            "{id: S1, when: {regex: ['(\\\\w+\\\\s?)*!']}, then: {decision: police}}",
            "含嵌套的重复",
        ),
        (
            "{id: S1, when: {regex: ['(?:x{1,500}y)+']}, then: {decision: police}}",
            "含嵌套的重复",
        ),
        (
            "{id: S1, when: {lines: x}, then: {decision: police}}",
            "未知字段",
        ),
    ],
)
def test_safety_section_and_field_checks(rule: str, message: str) -> None:
    assert any(message in p for p in problems(f"safety_rules:\n  - {rule}\n", policies=POLICIES))


def test_yaml_errors_and_unreadable_files_are_clear(tmp_path: Path) -> None:
    assert "YAML 格式错误" in problems("rules: [\n")[0]
    assert "version" in " ".join(str(p) for p in _problems_of("city: x\nrules: []\n"))
    bad = tmp_path / "rules.yaml"
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(RulesError, match="不是 UTF-8"):
        load_rules(bad)
    with pytest.raises(RulesError, match="无法读取"):
        load_rules(tmp_path / "missing.yaml")


def _problems_of(text: str):
    with pytest.raises(RulesError) as info:
        parse_rules(text)
    return info.value.problems


def test_rules_shadowed_by_an_earlier_wider_rule_are_reported() -> None:
    ruleset = rules(
        """
rules:
  - {id: WIDE, when: {keywords_any: [吵, 噪音]}, then: {decision: non_police}}
  - {id: NARROW, when: {keywords_any: [吵], district: [城东区]}, then: {decision: non_police}}
  - {id: OTHER, when: {keywords_any: [停水]}, then: {decision: non_police}}
  - {id: ALL, then: {decision: review}}
  - {id: AFTER-ALL, when: {keywords_any: [x]}, then: {decision: review}}
"""
    )
    shadowed = {w.rule: str(w) for w in ruleset.warnings}
    assert set(shadowed) == {"NARROW", "AFTER-ALL"}
    assert "规则 WIDE 在前" in shadowed["NARROW"] and "规则 ALL 在前" in shadowed["AFTER-ALL"]


def test_a_failed_reload_keeps_the_rules_in_force(tmp_path: Path) -> None:
    good = load_rules(SHIPPED)
    holder = RulesHolder(good, SHIPPED)
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 2\ncity: x\nrules: [{id: A, then: {decision: nope}}]\n")
    with pytest.raises(RulesError, match="无效的处置"):
        holder.reload(broken)
    assert holder.rules is good and holder.source == SHIPPED
    newer = tmp_path / "newer.yaml"
    newer.write_text("version: 2\ncity: x\nrules: []\n")
    assert holder.reload(newer).version == 2 and holder.rules.version == 2


# --- engine ----------------------------------------------------------------------------

ENGINE = rules(
    """
safety_rules:
  - {id: S-KNIFE, when: {keywords_any: [拿刀]}, then: {decision: police, priority: critical}}
  - id: S-FIRE
    when: {keywords_any: [着火]}
    then: {decision: emergency, destination: "119", also: ["110"]}
rules:
  - id: NIGHT-NOISE
    when: {keywords_all: ["吵|噪音", "施工|工地"], time_of_day: {from: "22:00", to: "06:00"}}
    then: {decision: non_police, destination: "12345:urban-mgmt", priority: urgent}
  - id: HOLIDAY
    when: {keywords_any: [咨询], day_type: [rest_day]}
    then: {decision: non_police, destination: "12345"}
  - id: WAGES
    when: {category: [劳动和社会保障/工资福利], keywords_none: [已经解决]}
    then: {decision: non_police, destination: "12345:hrss", deadline_policy: complaint}
  - id: KNIFE-SHOP
    when: {keywords_any: [拿刀]}
    then: {decision: non_police, destination: "12345:market"}
  - id: FROM-110
    when: {hotline: ["110"], decision: [non_police]}
    then: {decision: non_police, destination: "12345"}
  - id: POLICE
    when: {decision: [police], police_probability: {min: 0.5}}
    then: {decision: police}
default: {decision: review, destination: review}
"""
)


def test_safety_rules_run_first_and_a_later_rule_cannot_undo_them() -> None:
    result = decide(ENGINE, "店里有人拿刀，还着火了")
    assert (result.decision, result.destination, result.priority) == (
        Decision.POLICE,
        "110",
        "critical",
    )
    assert result.rules == ("S-KNIFE", "S-FIRE")
    assert "安全规则 S-KNIFE" in result.explanation and "另有安全规则 S-FIRE" in result.explanation


def test_time_of_day_runs_over_midnight_and_day_type_follows_the_calendar() -> None:
    text = "工地施工太吵了"
    at = lambda h, m=0: datetime(2026, 3, 10, h, m, tzinfo=CHINA_TZ)  # noqa: E731
    assert decide(ENGINE, text, at=at(23, 30)).rules == ("NIGHT-NOISE",)
    assert decide(ENGINE, text, at=at(5, 59)).rules == ("NIGHT-NOISE",)
    assert decide(ENGINE, text, at=at(6, 0)).rules == ()  # window end is exclusive
    national_day = datetime(2026, 10, 2, 10, tzinfo=CHINA_TZ)
    make_up_saturday = datetime(2026, 10, 10, 10, tzinfo=CHINA_TZ)
    assert decide(ENGINE, "咨询一下", at=national_day).rules == ("HOLIDAY",)
    assert decide(ENGINE, "咨询一下", at=make_up_saturday).rules == ()


def test_categories_keywords_and_hotline_of_origin() -> None:
    wages = Classification("non_police", 0.02, None, "劳动和社会保障", "工资福利")
    hit = decide(ENGINE, "老板欠我工资", wages)
    assert hit.destination == "12345:hrss" and hit.deadline_policy == "complaint"
    assert "分类“劳动和社会保障/工资福利”" in hit.explanation
    assert decide(ENGINE, "欠薪的事已经解决了", wages).rules == ()
    assert decide(ENGINE, "ｗｈａｔ 问题", hotline="110").rules == ("FROM-110",)
    assert decide(ENGINE, "有人打架", POLICE).destination == "110"
    unsure = Classification("police", 0.3, "治安", "政法", "社会治安")
    fallback = decide(ENGINE, "有人打架", unsure)
    assert (fallback.decision, fallback.rules) == (Decision.REVIEW, ())
    assert "没有规则命中" in fallback.explanation


def test_keywords_ignore_width_and_case() -> None:
    ruleset = rules(
        "rules:\n  - {id: K, when: {keywords_any: [KTV]}, then: {decision: non_police}}\n"
    )
    assert decide(ruleset, "楼下ｋｔｖ唱到半夜").rules == ("K",)


# Every matcher: one rule with only that condition, a call that meets it and one that does
# not. The calls differ from BASE_CALL only in what is named, so the condition alone decides.
SUNDAY = datetime(2026, 3, 8, 12, tzinfo=CHINA_TZ)
BASE_CALL = {
    "text": "楼上太吵了",
    "c": POLICE,
    "at": TUESDAY_NOON,
    "hotline": "12345",
    "district": "城东区",
    "nature": "complaint",
    "urgency": "normal",
}


def _reading(**changes) -> Classification:
    fields = {
        "decision": "police",
        "police_probability": 0.95,
        "police_type": "治安",
        "category_level1": "政法",
        "category_level2": "社会治安",
    }
    return Classification(**(fields | changes))


@pytest.mark.parametrize(
    ("when", "meets", "fails"),
    [
        ("{decision: [police]}", {}, {"c": NON_POLICE}),
        ("{decision: [review, non_police]}", {"c": Classification("review")}, {"c": POLICE}),
        (
            "{police_probability: {min: 0.6}}",
            {"c": _reading(police_probability=0.6)},
            {"c": _reading(police_probability=0.59)},
        ),
        (
            "{police_probability: {max: 0.3}}",
            {"c": _reading(police_probability=0.3)},
            {"c": _reading(police_probability=0.31)},
        ),
        (
            "{police_probability: {min: 0.2, max: 0.3}}",
            {"c": _reading(police_probability=0.25)},
            {"c": _reading(police_probability=None)},  # no probability: no match
        ),
        ("{police_type: [电信诈骗, 刑事]}", {"c": _reading(police_type="刑事")}, {"c": POLICE}),
        ("{category: [政法]}", {}, {"c": NON_POLICE}),  # level 1
        ("{category: [社会治安]}", {}, {"c": _reading(category_level2="户籍证件")}),  # level 2
        (
            "{category: [政法/社会治安]}",  # both levels: the same level 2 elsewhere does not match
            {},
            {"c": _reading(category_level1="城乡建设")},
        ),
        ("{keywords_any: [停电, 吵]}", {}, {"text": "楼上停气了"}),
        (
            '{keywords_all: ["工资|欠薪", "堵路|围堵"]}',
            {"text": "欠薪的工人在围堵大门"},  # the second alternative of each item
            {"text": "欠薪三个月了"},  # only the first item
        ),
        (
            '{keywords_all: ["工资|欠薪", "堵路|围堵"]}',
            {"text": "讨工资的人把路口堵路了"},
            {"text": "讨工资的人把路口堵了"},
        ),
        ("{keywords_any: [吵], keywords_none: [吵架]}", {}, {"text": "楼上两口子在吵架"}),
        (
            "{regex: ['1[3-9]\\d{9}', '(楼上|楼下)']}",  # every pattern must match
            {"text": "楼上住户电话１３８００１３８０００"},  # full-width digits are folded first
            {"text": "楼上住户电话138001"},
        ),
        ("{regex: ['ktv\\d号']}", {"text": "ＫＴＶ８号包厢太吵"}, {"text": "ＫＴＶ包厢太吵"}),
        ("{hotline: ['110']}", {"hotline": "110"}, {"hotline": "12345"}),
        ("{hotline: ['110']}", {"hotline": "110"}, {"hotline": None}),
        ("{district: [城东区, 城南区]}", {}, {"district": "城西区"}),
        ("{district: [城东区]}", {}, {"district": None}),  # unknown district: no match
        ("{nature: [report, complaint]}", {}, {"nature": "consultation"}),
        ("{urgency: [critical]}", {"urgency": "critical"}, {"urgency": "urgent"}),
        (
            "{time_of_day: {from: '09:00', to: '17:00'}}",
            {},
            {"at": datetime(2026, 3, 10, 17, tzinfo=CHINA_TZ)},  # the end is exclusive
        ),
        ("{day_type: [working_day]}", {}, {"at": SUNDAY}),
        ("{day_type: [rest_day]}", {"at": SUNDAY}, {"at": TUESDAY_NOON}),
        ("{keywords_any: [吵], hotline: ['110']}", {"hotline": "110"}, {"text": "楼上停水了"}),
    ],
)
def test_each_matcher_matches_and_refuses(when: str, meets: dict, fails: dict) -> None:
    ruleset = rules(f"rules:\n  - {{id: R, when: {when}, then: {{decision: non_police}}}}\n")

    def fires(changes: dict) -> bool:
        call = BASE_CALL | changes
        result = decide(ruleset, call.pop("text"), call.pop("c"), at=call.pop("at"), **call)
        assert result.rules in {("R",), ()}
        return result.rules == ("R",)

    assert fires(meets), "should match"
    assert not fires(meets | fails), "should not match"


@pytest.mark.parametrize(
    ("then", "expected"),
    [
        ("{decision: police}", {"decision": "police", "destination": "110"}),
        (
            "{decision: police, informed: [power], priority: critical}",
            {"destination": "110", "informed": ["power"], "priority": "critical"},
        ),
        ("{decision: non_police}", {"destination": "12345", "lead_agency": None}),
        (
            "{decision: non_police, destination: '12345:housing', assisting: [donghu-street],"
            " deadline_policy: utility, priority: urgent}",
            {
                "decision": "non_police",
                "destination": "12345:housing",
                "lead_agency": "housing",
                "assisting": ["donghu-street"],
                "deadline_policy": "utility",
                "priority": "urgent",
            },
        ),
        (
            "{decision: emergency, destination: '119', also: ['110']}",
            {"decision": "emergency", "destination": "119", "also": ["110"]},
        ),
        ("{decision: emergency, destination: '120'}", {"destination": "120", "also": []}),
        (
            "{decision: emergency, destination: '122', also: ['110']}",
            {"destination": "122", "also": ["110"]},
        ),
        (
            "{decision: joint, also: ['12345:hrss'], deadline_policy: urgent}",
            {
                "decision": "joint",
                "destination": "110",
                "also": ["12345:hrss"],
                "lead_agency": "hrss",
                "deadline_policy": "urgent",
            },
        ),
        (
            "{decision: review, three_party_call: true}",
            {"decision": "review", "destination": "review", "three_party_call": True},
        ),
        ("{decision: review, destination: '12345'}", {"destination": "12345"}),
    ],
)
def test_each_action_field_reaches_the_decision(then: str, expected: dict) -> None:
    ruleset = rules(
        f"rules:\n  - {{id: R, when: {{keywords_any: [吵]}}, then: {then}}}\n",
        agencies=CODES,
        policies=POLICIES,
    )
    result = decide(ruleset, "楼上太吵了").to_dict()
    defaults = {"also": [], "assisting": [], "informed": [], "three_party_call": False}
    for key, value in (defaults | {"priority": None, "deadline_policy": None} | expected).items():
        assert result[key] == value, key
    assert result["rules"] == ["R"] and result["rules_version"] == 3
    assert ("三方通话" in result["explanation"]) is result["three_party_call"]


def test_the_explanation_names_every_destination() -> None:
    ruleset = rules(
        """
rules:
  - id: A
    when: {keywords_any: [甲]}
    then: {decision: emergency, destination: "119", also: ["110"]}
  - {id: B, when: {keywords_any: [乙]}, then: {decision: non_police, destination: "12345:housing"}}
  - {id: C, when: {keywords_any: [丙]}, then: {decision: emergency, destination: "120"}}
  - {id: D, when: {keywords_any: [丁]}, then: {decision: emergency, destination: "122"}}
"""
    )
    assert "→ 119 消防联动；同时110 指挥中心派警" in decide(ruleset, "甲").explanation
    assert "→ 12345 派单至 housing" in decide(ruleset, "乙").explanation
    assert "120 急救联动" in decide(ruleset, "丙").explanation
    assert "122 交通事故联动" in decide(ruleset, "丁").explanation
    assert "没有规则命中，按默认处置：人工研判" in decide(ruleset, "戊").explanation


@pytest.mark.parametrize(
    ("then", "message"),
    [
        ("{decision: non_police, destination: '110'}", "非警情应转 12345 或 12345:单位"),
        ("{decision: police, destination: '12345'}", "处置 police 的去向应为 110"),
        ("{decision: review, destination: '119'}", "处置 review 的去向应为 review、110、12345"),
        ("{decision: police, also: [fire]}", "无效的去向 'fire'"),
        ("{decision: non_police, destination: '12345:Bad Code'}", "单位编码格式无效"),
        ("{decision: police, assisting: [nowhere]}", "未知的单位编码 'nowhere'"),
        ("{decision: police, three_party_call: yes please}", "应为 true 或 false"),
        ("{decision: police, priority: asap}", "无效的紧急程度"),
        ("{decision: police, colour: red}", "字段 colour：未知字段"),
    ],
)
def test_action_fields_are_checked(then: str, message: str) -> None:
    found = problems(
        f"rules:\n  - {{id: R, when: {{keywords_any: [x]}}, then: {then}}}\n", agencies=CODES
    )
    assert any(message in p for p in found), found


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("{police_probability: {min: 1.5}}", "应在 0 到 1 之间"),
        ("{police_probability: 0.5}", "应为 {min: 0.5, max: 1.0} 形式"),
        ("{hotline: ['119']}", "无效的取值 '119'"),
        ("{nature: [gossip]}", "无效的取值 'gossip'"),
        ("{day_type: [holiday]}", "无效的取值 'holiday'"),
        ("{time_of_day: {from: '22:00', to: '22:00'}}", "开始与结束时间不能相同"),
        ("{time_of_day: {from: '22:00'}}", '应为 {from: "22:00", to: "06:00"} 形式'),
        ("{keywords_any: []}", "应为非空列表"),
        ("{regex: ['" + "a" * 501 + "']}", "正则表达式过长"),
    ],
)
def test_match_fields_are_checked(when: str, message: str) -> None:
    found = problems(f"rules:\n  - {{id: R, when: {when}, then: {{decision: police}}}}\n")
    assert any(message in p for p in found), found


def test_the_safety_section_outranks_the_classifier_the_rules_and_priorities() -> None:
    ruleset = rules(
        """
safety_rules:
  - {id: S-FIRST, when: {keywords_any: [吵架]}, then: {decision: joint, also: ["12345:hrss"]}}
  - {id: S-SECOND, when: {keywords_any: [拿刀]}, then: {decision: police, priority: critical}}
rules:
  - {id: EARLY, when: {keywords_any: [拿刀, 吵]}, then: {decision: non_police}}
default: {decision: non_police}
"""
    )
    both = decide(ruleset, "吵架的人拿刀了", Classification("non_police", 0.0))
    # the first safety rule in file order decides, even over a more urgent later one
    assert (both.decision, both.priority, both.rules) == (
        Decision.JOINT,
        None,
        ("S-FIRST", "S-SECOND"),
    )
    # a safety rule beats the classifier, the ordinary rules and the default
    alone = decide(ruleset, "有人拿刀", Classification("non_police", 0.0))
    assert (alone.decision, alone.rules) == (Decision.POLICE, ("S-SECOND",))
    # without danger the ordinary rules are consulted as usual
    assert decide(ruleset, "有人在吵", POLICE).rules == ("EARLY",)


def test_a_disabled_rule_is_skipped_and_a_missing_default_means_review() -> None:
    ruleset = rules(
        "rules:\n  - {id: DISABLED, enabled: false, when: {keywords_any: [吵]},"
        " then: {decision: police}}\n"
    )
    result = decide(ruleset, "楼上太吵了", NON_POLICE)
    assert (result.decision, result.destination, result.rules) == (Decision.REVIEW, "review", ())


# --- the shipped defaults --------------------------------------------------------------


def test_the_shipped_rules_are_valid_for_the_demo_city() -> None:
    ruleset = load_rules(SHIPPED, agencies=CODES, policies=POLICIES)
    assert ruleset.warnings == ()
    assert ruleset.agencies() <= CODES
    assert len(ruleset.safety_rules) >= 9


@pytest.mark.parametrize(
    ("text", "c", "district", "expected"),
    [
        ("厨房着火了，火很大", NON_POLICE, None, ("emergency", "119", ("110",))),
        ("家里燃气泄漏，味道很重", NON_POLICE, None, ("emergency", "119", ("110",))),
        ("楼道里电线掉下来了在冒火花", NON_POLICE, None, ("police", "110", ())),
        ("有人拿刀在街上追人", NON_POLICE, None, ("police", "110", ())),
        ("我朋友说不想活了要跳楼", NON_POLICE, None, ("police", "110", ())),
        ("我家孩子不见了，找了一个小时", NON_POLICE, None, ("police", "110", ())),
        ("我爸突然晕倒了叫不醒", NON_POLICE, None, ("emergency", "120", ("110",))),
        ("路口两辆车追尾了，有人受伤", NON_POLICE, None, ("emergency", "122", ("110",))),
        ("几十个工人讨薪，把厂门口的路堵了", NON_POLICE, None, ("joint", "110", ("12345:hrss",))),
        ("楼下广场舞太吵了", NON_POLICE, "城东区", ("non_police", "12345:donghu-street", ())),
        ("楼下广场舞太吵了", NON_POLICE, "城西区", ("non_police", "12345:xihe-street", ())),
        ("楼上天天吵，社区调解过还是吵", POLICE, "城东区", ("police", "110", ())),
        (
            "晚上十一点工地还在施工，太吵了",
            NON_POLICE,
            None,
            ("non_police", "12345:urban-mgmt", ()),
        ),
        ("化工厂晚上偷排污水，很臭", NON_POLICE, None, ("non_police", "12345:eco-env", ())),
        ("我们小区停水一天了", NON_POLICE, None, ("non_police", "12345:water", ())),
        ("公司拖欠工资三个月", NON_POLICE, None, ("non_police", "12345:hrss", ())),
        ("健身房老板跑路了，预付卡退不了", NON_POLICE, None, ("non_police", "12345:market", ())),
        ("我想问问护照怎么办", NON_POLICE, None, ("non_police", "12345:police110", ())),
        ("小区路灯坏了好几天", NON_POLICE, None, ("non_police", "12345:urban-mgmt", ())),
    ],
)
def test_shipped_rules_route_the_domain_examples(text, c, district, expected) -> None:
    ruleset = load_rules(SHIPPED)
    result = decide(ruleset, text, c, district=district)
    assert (result.decision.value, result.destination, result.also) == expected, result.explanation


def test_an_unsure_police_reading_asks_for_a_three_party_call() -> None:
    ruleset = load_rules(SHIPPED)
    unsure = Classification("police", 0.2, "治安", "政法", "社会治安")
    result = decide(ruleset, "门口有几个人一直在转悠", unsure)
    assert result.decision is Decision.REVIEW and result.three_party_call
    assert "三方通话" in result.explanation
    assert decide(ruleset, "嗯……", Classification("review")).destination == "review"


def test_a_date_in_2027_routes_without_official_calendar_data() -> None:
    ruleset = load_rules(SHIPPED)
    at = datetime.combine(date(2027, 2, 8), datetime.min.time(), tzinfo=CHINA_TZ)
    assert decide(ruleset, "我们小区停水了", at=at).destination == "12345:water"


def test_line_agencies_are_checked_and_default_to_the_national_lines() -> None:
    ruleset = rules('lines: {"119": fire-brigade}\nrules: []\n', agencies={"fire-brigade"})
    assert ruleset.lines["119"] == "fire-brigade" and ruleset.lines["110"] == "police110"
    found = problems('lines: {"911": x, "110": nowhere}\nrules: []\n', agencies={"fire"})
    assert any("lines.911" in p and "只能配置" in p for p in found)
    assert any("未知的单位编码 'nowhere'" in p for p in found)


def test_harmless_repeats_are_allowed() -> None:
    ruleset = rules(
        "rules:\n  - {id: R, when: {regex: ['(?:欠|拖欠)+工资', '枪(?!乌贼)', '(\\\\d{3})+']},"
        " then: {decision: non_police}}\n"
    )
    assert len(ruleset.rules[0].match.regex) == 3
