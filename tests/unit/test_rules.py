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
        ("楼下广场舞太吵了", POLICE, "城东区", ("non_police", "12345:donghu-street", ())),
        ("楼下广场舞太吵了", POLICE, "城西区", ("non_police", "12345:xihe-street", ())),
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
