"""routing_rules.yaml: the schema, the loader, and every check a city's file must pass.

The file is read with line numbers kept, so each problem names the rule, the field and the
line. All problems are collected, not just the first, so an administrator fixes a file in one
go. Structure is checked on load; agency codes and deadline policy names are checked against
what the caller knows (the database, the policy file) when it can say.
"""

from __future__ import annotations

import re
import re._constants as _sre  # the parser behind re.compile: no third-party regex analyser
import re._parser as _sre_parser
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from hotline.domain.vocabulary import Hotline, Nature, Urgency

LINE = "__line__"
MAX_KEYWORDS = 2_000
MAX_PATTERN_CHARS = 500


class Decision(StrEnum):
    POLICE = "police"  # 110 dispatch
    NON_POLICE = "non_police"  # a 12345 ticket
    EMERGENCY = "emergency"  # 119 / 120 / 122 linkage
    JOINT = "joint"  # 110 now and a 12345 ticket for mediation in parallel
    REVIEW = "review"  # a person decides (三方通话 when the owner is unclear)


SAFE_DECISIONS = frozenset({Decision.POLICE, Decision.EMERGENCY, Decision.JOINT})
# What the classifier can say of a call: the only values ``when.decision`` can ever meet.
CLASSIFIER_DECISIONS = ("police", "non_police", "review")
# The engine's police-first guarantee (engine.police_first): a calibrated police probability
# at or above this is "more likely police than not", and no ordinary rule may then send the
# call away from 110. Chosen on the evaluation slices (classifier/models/MODEL_CARD.md).
STRONG_POLICE_PROBABILITY = 0.5


class PoliceFirst(StrEnum):
    """What happens to an ordinary rule's 12345 destination when the engine sends the call to
    110 first: the rule's agency co-handles the rest (joint, the national rule for mixed
    matters), or the topic word was only the scene and 110 takes it alone."""

    JOINT = "joint"
    POLICE = "police"


EMERGENCY_LINES = ("119", "120", "122")
# Which agency takes a ticket sent to each line, unless the file's ``lines`` says otherwise.
DEFAULT_LINES: dict[str, str] = {
    "110": "police110",
    "119": "fire119",
    "120": "ems120",
    "122": "traffic-police",
}
DAY_TYPES = ("working_day", "rest_day")


@dataclass(frozen=True)
class Problem:
    rule: str | None
    field: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        where = [f"第 {self.line} 行"] if self.line else []
        if self.rule:
            where.append(f"规则 {self.rule}")
        if self.field:
            where.append(f"字段 {self.field}")
        return f"{'，'.join(where)}：{self.message}" if where else self.message


class RulesError(ValueError):
    """The file cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class TimeWindow:
    start: time
    end: time  # a window with end <= start runs over midnight

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class Keyword:
    """A word to look for in the normalised transcript. An occurrence does not count when it
    lies inside one of ``exceptions`` (跳楼 inside 跳楼价), when ``boundary`` asks for whole
    jieba words and it starts or ends inside one, or when the classifier's police probability
    is below ``min_police_probability`` (a weapon word in a product complaint)."""

    word: str
    exceptions: tuple[str, ...] = ()
    boundary: bool = False
    min_police_probability: float | None = None

    def __str__(self) -> str:
        return self.word

    @property
    def plain(self) -> bool:
        return not (self.exceptions or self.boundary or self.min_police_probability is not None)


@dataclass(frozen=True)
class Match:
    decision: frozenset[str] = frozenset()
    min_probability: float | None = None
    max_probability: float | None = None
    police_type: frozenset[str] = frozenset()
    category: frozenset[str] = frozenset()  # level 1, level 2, or "level1/level2"
    keywords_any: tuple[Keyword, ...] = ()
    keywords_all: tuple[tuple[Keyword, ...], ...] = ()  # each item: alternatives ("a|b")
    # A phrase that contains an occurrence of one of the rule's keywords (or of a regex
    # match) cancels that occurrence only; a phrase found elsewhere vetoes the rule.
    keywords_none: tuple[str, ...] = ()
    regex: tuple[re.Pattern[str], ...] = ()
    hotline: frozenset[str] = frozenset()
    district: frozenset[str] = frozenset()
    nature: frozenset[str] = frozenset()
    urgency: frozenset[str] = frozenset()
    time_of_day: TimeWindow | None = None
    day_type: frozenset[str] = frozenset()

    def is_catch_all(self) -> bool:
        return self == Match()


@dataclass(frozen=True)
class Action:
    decision: Decision
    destination: str  # "110", "119", "120", "122", "12345", "12345:<agency>", "review"
    also: tuple[str, ...] = ()
    assisting: tuple[str, ...] = ()
    informed: tuple[str, ...] = ()
    three_party_call: bool = False
    priority: Urgency | None = None
    deadline_policy: str | None = None
    police_first: PoliceFirst = PoliceFirst.JOINT

    @property
    def sends_away_from_police(self) -> bool:
        """True when this action, taken on a strong police reading, would keep the call from
        110: a 12345 ticket, a review, or an emergency line without 110 beside it."""
        if self.decision in (Decision.POLICE, Decision.JOINT):
            return False
        if self.decision is Decision.EMERGENCY:
            return "110" not in self.also
        return True

    @property
    def lead_agency(self) -> str | None:
        for target in (self.destination, *self.also):
            if target.startswith("12345:"):
                return target.split(":", 1)[1]
        return None


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    match: Match
    action: Action
    safety: bool
    line: int | None = None


@dataclass(frozen=True)
class RuleSet:
    version: int
    city: str
    safety_rules: tuple[Rule, ...]
    rules: tuple[Rule, ...]
    default: Action
    warnings: tuple[Problem, ...] = field(default=(), compare=False)
    # Rules whose outcome the engine's police-first guarantee changes on a strong police
    # reading (shown by ``hotline rules check``; warnings above name those it always changes).
    police_first_notes: tuple[Problem, ...] = field(default=(), compare=False)
    # Line ("110", "119", ...) -> the agency code whose desk receives tickets sent there.
    lines: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LINES))

    def all_rules(self) -> Iterable[Rule]:
        yield from self.safety_rules
        yield from self.rules

    def agencies(self) -> set[str]:
        codes: set[str] = set()
        for action in [r.action for r in self.all_rules()] + [self.default]:
            codes.update(a for a in (action.lead_agency, *action.assisting, *action.informed) if a)
        return codes | set(self.lines.values())


# --- loading ---------------------------------------------------------------------------


class _LineLoader(yaml.SafeLoader):
    """Keeps the line of every mapping, so problems can point at it."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class Yaml11Bool(str):
    """An unquoted yes / no / on / off. YAML 1.1 reads these as booleans, so ``id: OFF``
    would silently become ``False``; the loader keeps the spelling, and the parser accepts it
    only where a boolean belongs and refuses it, saying why, wherever text is expected."""

    value: bool


_YAML11_BOOL_TAG = "tag:hotline,2026:yaml11-bool"
_YAML11_SPELLINGS = {
    **dict.fromkeys(("yes", "Yes", "YES", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "off", "Off", "OFF"), False),
}
# Booleans are true/false only (as in YAML 1.2); the other YAML 1.1 spellings get their own tag.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_LineLoader.add_implicit_resolver(
    _YAML11_BOOL_TAG, re.compile("^(?:" + "|".join(_YAML11_SPELLINGS) + ")$"), list("yYnNoO")
)


def _construct_yaml11_bool(loader: _LineLoader, node: yaml.ScalarNode) -> Yaml11Bool:
    spelling = loader.construct_scalar(node)
    scalar = Yaml11Bool(spelling)
    scalar.value = _YAML11_SPELLINGS[spelling]
    return scalar


_LineLoader.add_constructor(_YAML11_BOOL_TAG, _construct_yaml11_bool)
# Fields that take a boolean: there, yes / no / on / off mean what YAML 1.1 says.
_BOOLEAN_FIELDS = {"enabled", "three_party_call", "boundary"}


def load_rules(
    path: Path,
    *,
    agencies: Collection[str] | None = None,
    policies: Collection[str] | None = None,
) -> RuleSet:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError([Problem(None, None, None, f"无法读取 {path}：{exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        raise RulesError([Problem(None, None, None, f"{path} 不是 UTF-8 文本")]) from exc
    return parse_rules(text, agencies=agencies, policies=policies)


def parse_rules(
    text: str,
    *,
    agencies: Collection[str] | None = None,
    policies: Collection[str] | None = None,
) -> RuleSet:
    try:
        raw = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise RulesError([Problem(None, None, line, f"YAML 格式错误：{exc}")]) from exc
    parser = _Parser(agencies, policies)
    raw = parser.resolve_yaml11_booleans(raw, None, None)
    ruleset = parser.ruleset(raw)
    if parser.problems:
        raise RulesError(parser.problems)
    assert ruleset is not None
    return ruleset


_TOP_KEYS = {"version", "city", "lines", "safety_rules", "rules", "default", "description"}
_RULE_KEYS = {"id", "description", "when", "then", "enabled"}
_MATCH_KEYS = {
    "decision",
    "police_probability",
    "police_type",
    "category",
    "keywords_any",
    "keywords_all",
    "keywords_none",
    "regex",
    "hotline",
    "district",
    "nature",
    "urgency",
    "time_of_day",
    "day_type",
}
_ACTION_KEYS = {
    "decision",
    "destination",
    "also",
    "assisting",
    "informed",
    "three_party_call",
    "priority",
    "deadline_policy",
    "police_first",
}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_AGENCY = re.compile(r"^[a-z0-9][a-z0-9_\-]{1,31}$")


def nested_repeat(pattern: str) -> bool:
    """True when an unbounded repeat sits inside another, as in ``(a+)+`` or ``(\\w+\\s?)*``:
    the shape that makes Python's backtracking engine take exponential time on a near-miss.
    Callers write the transcripts the patterns run on, so such a pattern could stall routing."""
    tree = _sre_parser.parse(pattern)
    return _walk_repeats(tree, inside=False)


_REPEATS = {_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)}
# More than this many repetitions counts as unbounded: {1,1000} backtracks like +.
_LONG_REPEAT = 50


def _walk_repeats(items: Any, inside: bool) -> bool:
    for op, av in items:
        if op in _REPEATS:
            _low, high, body = av
            unbounded = high == _sre.MAXREPEAT or high > _LONG_REPEAT
            if (unbounded and inside) or _walk_repeats(body, inside or unbounded):
                return True
            continue
        if op is _sre.SUBPATTERN:
            children = [av[-1]]
        elif op is _sre.BRANCH:
            children = list(av[1])
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            children = [av[1]]
        else:
            children = []
        if any(_walk_repeats(child, inside) for child in children):
            return True
    return False


class _Parser:
    def __init__(self, agencies: Collection[str] | None, policies: Collection[str] | None):
        self.agencies = set(agencies) if agencies is not None else None
        self.policies = set(policies) if policies is not None else None
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, rule: str | None, fld: str | None, line: int | None, msg: str) -> None:
        self.problems.append(Problem(rule, fld, line, msg))

    def resolve_yaml11_booleans(self, raw: Any, key: str | None, line: int | None) -> Any:
        """Turn yes / no / on / off into booleans where a boolean belongs; everywhere else
        report them, since the author meant the word and YAML 1.1 tools would read a bool."""
        if isinstance(raw, Yaml11Bool):
            if key in _BOOLEAN_FIELDS:
                return raw.value
            self.problem(
                None,
                key,
                line,
                f"YAML 会把不带引号的 {raw} 读作布尔值（{str(raw.value).lower()}），"
                f'这里需要文字：请加引号写成 "{raw}"',
            )
            return str(raw)
        if isinstance(raw, dict):
            here = raw.get(LINE, line)
            return {k: self.resolve_yaml11_booleans(v, k, here) for k, v in raw.items()}
        if isinstance(raw, list):
            return [self.resolve_yaml11_booleans(v, key, line) for v in raw]
        return raw

    def ruleset(self, raw: Any) -> RuleSet | None:
        if not isinstance(raw, dict):
            self.problem(
                None, None, None, "文件应为映射：version、city、safety_rules、rules、default"
            )
            return None
        line = raw.get(LINE)
        self._unknown(raw, _TOP_KEYS, None, line)
        version = raw.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.problem(None, "version", line, f"应为正整数（每次修改加一），而不是 {version!r}")
            version = 0
        city = raw.get("city")
        if not isinstance(city, str) or not city.strip():
            self.problem(None, "city", line, "应写明城市名称")
            city = ""
        seen: set[str] = set()
        safety = self._rules(raw.get("safety_rules"), "safety_rules", True, seen, line)
        rules = self._rules(raw.get("rules"), "rules", False, seen, line)
        default_raw = raw.get("default")
        if default_raw is None:
            default = Action(Decision.REVIEW, "review")
        else:
            default = self._action(default_raw, "default", "default", False)
        self._check_reachable(rules)
        notes = self._check_police_first(rules, default)
        return RuleSet(
            version,
            city.strip(),
            tuple(safety),
            tuple(rules),
            default,
            warnings=tuple(self.warnings),
            police_first_notes=notes,
            lines=self._lines(raw.get("lines"), line),
        )

    def _lines(self, raw: Any, line: Any) -> dict[str, str]:
        lines = dict(DEFAULT_LINES)
        if raw is None:
            return lines
        if not isinstance(raw, dict):
            self.problem(None, "lines", line, '应为映射，如 {"110": police110, "119": fire119}')
            return lines
        for key, code in raw.items():
            if key == LINE:
                continue
            if str(key) not in DEFAULT_LINES:
                self.problem(None, f"lines.{key}", raw.get(LINE), "只能配置 110、119、120、122")
            elif not isinstance(code, str):
                self.problem(None, f"lines.{key}", raw.get(LINE), "应为单位编码")
            else:
                self._agency(code, "lines", f"lines.{key}", raw.get(LINE))
                lines[str(key)] = code
        return lines

    def _unknown(self, raw: Mapping[str, Any], allowed: set[str], rule: str | None, line: Any):
        for key in raw:
            if key != LINE and key not in allowed:
                choices = "、".join(sorted(allowed))
                self.problem(rule, str(key), line, f"未知字段；可用：{choices}")

    def _rules(self, raw: Any, section: str, safety: bool, seen: set[str], line: Any) -> list[Rule]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(None, section, line, "应为规则列表")
            return []
        rules = []
        for index, item in enumerate(raw, start=1):
            rule = self._rule(item, section, index, safety, seen)
            if rule is not None:
                rules.append(rule)
        return rules

    def _rule(
        self, raw: Any, section: str, index: int, safety: bool, seen: set[str]
    ) -> Rule | None:
        if not isinstance(raw, dict):
            self.problem(f"{section}[{index}]", None, None, "规则应为映射（id、when、then）")
            return None
        line = raw.get(LINE)
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or not _ID.match(rule_id):
            self.problem(f"{section}[{index}]", "id", line, f"规则编号无效：{rule_id!r}")
            rule_id = f"{section}[{index}]"
        elif rule_id in seen:
            self.problem(rule_id, "id", line, "规则编号重复")
        seen.add(rule_id)
        self._unknown(raw, _RULE_KEYS, rule_id, line)
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            self.problem(rule_id, "enabled", line, "应为 true 或 false")
        if safety and enabled is False:
            self.problem(rule_id, "enabled", line, "安全规则不能停用")
        match = self._match(raw.get("when"), rule_id, line)
        action = self._action(raw.get("then"), rule_id, "then", safety, line)
        if safety and match.is_catch_all():
            self.problem(rule_id, "when", line, "安全规则必须有触发条件")
        if enabled is False:
            return None
        description = raw.get("description", "")
        return Rule(rule_id, str(description), match, action, safety, line)

    # --- when -----------------------------------------------------------------------------

    def _match(self, raw: Any, rule: str, line: Any) -> Match:
        if raw is None:
            return Match()
        if not isinstance(raw, dict):
            self.problem(rule, "when", line, "应为条件映射")
            return Match()
        line = raw.get(LINE, line)
        self._unknown(raw, _MATCH_KEYS, rule, line)
        low, high = self._probability(raw.get("police_probability"), rule, line)
        return Match(
            decision=self._classifier_decisions(raw, rule, line),
            min_probability=low,
            max_probability=high,
            police_type=self._strings(raw, "police_type", rule, line),
            category=self._strings(raw, "category", rule, line),
            keywords_any=tuple(
                k
                for item in self._list(raw, "keywords_any", rule, line)
                for k in self._keyword(item, "keywords_any", rule, line, alternatives=False)
            ),
            keywords_all=tuple(
                alternatives
                for item in self._list(raw, "keywords_all", rule, line)
                if (alternatives := self._keyword(item, "keywords_all", rule, line))
            ),
            keywords_none=self._keywords(raw, "keywords_none", rule, line),
            regex=self._patterns(raw, rule, line),
            hotline=self._choices(raw, "hotline", [h.value for h in Hotline], rule, line),
            district=self._strings(raw, "district", rule, line),
            nature=self._choices(raw, "nature", [n.value for n in Nature], rule, line),
            urgency=self._choices(raw, "urgency", [u.value for u in Urgency], rule, line),
            time_of_day=self._window(raw.get("time_of_day"), rule, line),
            day_type=self._choices(raw, "day_type", list(DAY_TYPES), rule, line),
        )

    def _classifier_decisions(self, raw: Mapping[str, Any], rule: str, line: Any) -> frozenset[str]:
        values = self._strings(raw, "decision", rule, line)
        for value in sorted(values - set(CLASSIFIER_DECISIONS)):
            if value in (Decision.EMERGENCY, Decision.JOINT):
                hint = (
                    "；紧急求助请用 police_type: [紧急求助]"
                    if value == Decision.EMERGENCY
                    else "；联动是规则的处置（then.decision），不是分类结果"
                )
            else:
                hint = ""
            self.problem(
                rule,
                "decision",
                line,
                f"分类器只会给出 {'、'.join(CLASSIFIER_DECISIONS)}，{value!r} 永远不会匹配{hint}",
            )
        return values & set(CLASSIFIER_DECISIONS)

    def _keyword(
        self, item: Any, key: str, rule: str, line: Any, *, alternatives: bool = True
    ) -> tuple[Keyword, ...]:
        """One item of a keyword list: a word, "a|b" alternatives (keywords_all), a list of
        alternatives, or a mapping {word, except, boundary, min_police_probability}."""
        if isinstance(item, list) and alternatives:
            return tuple(
                k for part in item for k in self._keyword(part, key, rule, line, alternatives=False)
            )
        if isinstance(item, dict):
            return self._keyword_mapping(item, key, rule, line)
        if isinstance(item, bool) or not isinstance(item, str | int) or not str(item).strip():
            self.problem(rule, key, line, f"无效的取值 {item!r}")
            return ()
        parts = str(item).split("|") if alternatives else [str(item)]
        return tuple(Keyword(normalise(part)) for part in parts if part.strip())

    def _keyword_mapping(
        self, item: dict[str, Any], key: str, rule: str, line: Any
    ) -> tuple[Keyword, ...]:
        line = item.get(LINE, line)
        allowed = {"word", "except", "boundary", "min_police_probability"}
        self._unknown(item, allowed, rule, line)
        word = item.get("word")
        if isinstance(word, bool) or not isinstance(word, str | int) or not str(word).strip():
            self.problem(rule, f"{key}.word", line, f"关键词应为文字，而不是 {word!r}")
            return ()
        word = normalise(str(word))
        exceptions = tuple(normalise(e) for e in self._words(item, "except", rule, line))
        for phrase in exceptions:
            if word not in phrase:
                self.problem(
                    rule, f"{key}.except", line, f"例外 {phrase!r} 不含关键词 {word!r}，不起作用"
                )
        boundary = item.get("boundary", False)
        if not isinstance(boundary, bool):
            self.problem(rule, f"{key}.boundary", line, "应为 true 或 false")
            boundary = False
        floor = item.get("min_police_probability")
        if floor is not None and (
            isinstance(floor, bool) or not isinstance(floor, int | float) or not 0 <= floor <= 1
        ):
            self.problem(rule, f"{key}.min_police_probability", line, "应在 0 到 1 之间")
            floor = None
        return (Keyword(word, exceptions, boundary, None if floor is None else float(floor)),)

    def _list(self, raw: Mapping[str, Any], key: str, rule: str, line: Any) -> list[Any]:
        value = raw.get(key)
        if value is None:
            return []
        if isinstance(value, str | int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list) or not value:
            self.problem(rule, key, line, "应为非空列表")
            return []
        return value

    def _strings(self, raw: Mapping[str, Any], key: str, rule: str, line: Any) -> frozenset[str]:
        return frozenset(self._words(raw, key, rule, line))

    def _words(self, raw: Mapping[str, Any], key: str, rule: str, line: Any) -> list[str]:
        values = self._list(raw, key, rule, line)
        if len(values) > MAX_KEYWORDS:
            self.problem(rule, key, line, f"最多 {MAX_KEYWORDS} 项")
            return []
        words = []
        for value in values:
            text = str(value).strip() if isinstance(value, str | int) else ""
            if not text or isinstance(value, bool):
                self.problem(rule, key, line, f"无效的取值 {value!r}")
                continue
            words.append(text)
        return words

    def _keywords(self, raw: Mapping[str, Any], key: str, rule: str, line: Any) -> tuple[str, ...]:
        return tuple(normalise(k) for k in self._words(raw, key, rule, line))

    def _choices(
        self, raw: Mapping[str, Any], key: str, allowed: list[str], rule: str, line: Any
    ) -> frozenset[str]:
        values = self._strings(raw, key, rule, line)
        for value in sorted(values - set(allowed)):
            self.problem(rule, key, line, f"无效的取值 {value!r}，可选：{'、'.join(allowed)}")
        return values & set(allowed)

    def _probability(self, raw: Any, rule: str, line: Any) -> tuple[float | None, float | None]:
        if raw is None:
            return None, None
        if not isinstance(raw, dict) or not set(raw) - {LINE} <= {"min", "max"}:
            self.problem(rule, "police_probability", line, "应为 {min: 0.5, max: 1.0} 形式")
            return None, None
        bounds = []
        for key in ("min", "max"):
            value = raw.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1
            ):
                self.problem(rule, f"police_probability.{key}", line, "应在 0 到 1 之间")
                value = None
            bounds.append(float(value) if value is not None else None)
        low, high = bounds
        if low is not None and high is not None and low > high:
            self.problem(rule, "police_probability", line, "min 不能大于 max")
        return low, high

    def _patterns(self, raw: Mapping[str, Any], rule: str, line: Any) -> tuple[re.Pattern, ...]:
        patterns = []
        for text in self._words(raw, "regex", rule, line):
            if len(text) > MAX_PATTERN_CHARS:
                self.problem(rule, "regex", line, f"正则表达式过长（最多 {MAX_PATTERN_CHARS} 字）")
                continue
            if " " in text:
                self.warnings.append(
                    Problem(
                        rule,
                        "regex",
                        line,
                        f"正则表达式 {text!r} 含空格：来电文本比较时不含空格，正则中的空格已忽略",
                    )
                )
            folded = normalise_pattern(text)
            try:
                compiled = re.compile(folded, re.IGNORECASE)
            except re.error as exc:
                self.problem(rule, "regex", line, f"正则表达式 {text!r} 有误：{exc}")
                continue
            if nested_repeat(folded):
                self.problem(
                    rule,
                    "regex",
                    line,
                    f"正则表达式 {text!r} 含嵌套的重复（如 (a+)+），遇到特定来电可能耗时极长，"
                    "请改写",
                )
                continue
            patterns.append(compiled)
        return tuple(patterns)

    def _window(self, raw: Any, rule: str, line: Any) -> TimeWindow | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or set(raw) - {LINE} != {"from", "to"}:
            self.problem(rule, "time_of_day", line, '应为 {from: "22:00", to: "06:00"} 形式')
            return None
        ends = []
        for key in ("from", "to"):
            value = raw[key]
            try:
                ends.append(time.fromisoformat(str(value)))
            except ValueError:
                self.problem(rule, f"time_of_day.{key}", line, f"时间格式应为 HH:MM：{value!r}")
                return None
        if ends[0] == ends[1]:
            self.problem(rule, "time_of_day", line, "开始与结束时间不能相同")
            return None
        return TimeWindow(ends[0], ends[1])

    # --- then -----------------------------------------------------------------------------

    def _action(self, raw: Any, rule: str, fld: str, safety: bool, line: Any = None) -> Action:
        fallback = Action(Decision.REVIEW, "review")
        if not isinstance(raw, dict):
            self.problem(rule, fld, line, "应为处置映射（decision、destination …）")
            return fallback
        line = raw.get(LINE, line)
        self._unknown(raw, _ACTION_KEYS, rule, line)
        try:
            decision = Decision(raw.get("decision"))
        except ValueError:
            allowed = "、".join(d.value for d in Decision)
            self.problem(
                rule, "decision", line, f"无效的处置 {raw.get('decision')!r}，可选：{allowed}"
            )
            return fallback
        if safety and decision not in SAFE_DECISIONS:
            self.problem(rule, "decision", line, "安全规则只能转 110、119/120/122 或联动处置")
        destination = str(raw.get("destination", _DEFAULT_DESTINATION.get(decision, "")))
        self._destination(destination, decision, rule, line)
        also = tuple(str(a) for a in self._list(raw, "also", rule, line))
        for target in also:
            self._target(target, rule, "also", line)
        if decision is Decision.JOINT and not any(
            t.startswith("12345") for t in (destination, *also)
        ):
            self.problem(rule, "also", line, "联动处置需同时生成 12345 工单（also: 12345:单位）")
        assisting = tuple(str(a) for a in self._list(raw, "assisting", rule, line))
        informed = tuple(str(a) for a in self._list(raw, "informed", rule, line))
        for code in (*assisting, *informed):
            self._agency(code, rule, "assisting/informed", line)
        three = raw.get("three_party_call", False)
        if not isinstance(three, bool):
            self.problem(rule, "three_party_call", line, "应为 true 或 false")
            three = False
        priority = None
        if raw.get("priority") is not None:
            try:
                priority = Urgency(raw["priority"])
            except ValueError:
                allowed = "、".join(u.value for u in Urgency)
                self.problem(rule, "priority", line, f"无效的紧急程度，可选：{allowed}")
        policy = raw.get("deadline_policy")
        if policy is not None:
            policy = str(policy)
            if self.policies is not None and policy not in self.policies:
                self.problem(rule, "deadline_policy", line, f"未知的时限规则 {policy!r}")
        police_first = PoliceFirst.JOINT
        if safety and raw.get("police_first") is not None:
            self.problem(rule, "police_first", line, "安全规则本身就转警情，不需要 police_first")
        elif raw.get("police_first") is not None:
            try:
                police_first = PoliceFirst(raw["police_first"])
            except ValueError:
                self.problem(
                    rule,
                    "police_first",
                    line,
                    f"无效的取值 {raw['police_first']!r}，"
                    "可选：joint（本单位协办）、police（仅 110）",
                )
        return Action(
            decision, destination, also, assisting, informed, three, priority, policy, police_first
        )

    def _destination(self, destination: str, decision: Decision, rule: str, line: Any) -> None:
        self._target(destination, rule, "destination", line)
        expected = {
            Decision.POLICE: ("110",),
            Decision.JOINT: ("110",),
            Decision.EMERGENCY: EMERGENCY_LINES,
            Decision.REVIEW: ("review", "110", "12345"),
        }.get(decision)
        if decision is Decision.NON_POLICE and not destination.startswith("12345"):
            self.problem(rule, "destination", line, "非警情应转 12345 或 12345:单位")
        elif expected is not None and destination not in expected:
            wanted = "、".join(expected)
            self.problem(rule, "destination", line, f"处置 {decision.value} 的去向应为 {wanted}")

    def _target(self, target: str, rule: str, fld: str, line: Any) -> None:
        if target in ("110", "12345", "review", *EMERGENCY_LINES):
            return
        if target.startswith("12345:"):
            self._agency(target.split(":", 1)[1], rule, fld, line)
            return
        self.problem(
            rule, fld, line, f"无效的去向 {target!r}：110、119、120、122、12345:单位编码或 review"
        )

    def _agency(self, code: str, rule: str, fld: str, line: Any) -> None:
        if not _AGENCY.match(code):
            self.problem(rule, fld, line, f"单位编码格式无效：{code!r}")
        elif self.agencies is not None and code not in self.agencies:
            self.problem(rule, fld, line, f"未知的单位编码 {code!r}")

    # --- the police-first guarantee ---------------------------------------------------------

    def _check_police_first(self, rules: list[Rule], default: Action) -> tuple[Problem, ...]:
        """Which ordinary rules the engine overrides on a strong police reading. A rule that
        can only ever see strong police readings never takes effect as written: a warning.
        The others are overridden only for such calls: a note for the administrator."""
        notes = []
        for rule in [*rules, None]:
            action = rule.action if rule else default
            if not action.sends_away_from_police:
                continue
            match = rule.match if rule else Match()
            if not can_read_strong_police(match):
                continue
            instead = _police_first_outcome(action)
            name, line = (rule.id, rule.line) if rule else ("default", None)
            if always_strong_police(match):
                self.warnings.append(
                    Problem(
                        name,
                        "then",
                        line,
                        f"只对警情概率 ≥ {STRONG_POLICE_PROBABILITY:.2f} 的来电生效，"
                        f"引擎总会改为{instead}：此规则的去向永远不会生效",
                    )
                )
                continue
            notes.append(
                Problem(
                    name,
                    "then",
                    line,
                    f"分类器判为警情且概率 ≥ {STRONG_POLICE_PROBABILITY:.2f} 时，"
                    f"引擎改为{instead}（警情优先，先行派警）",
                )
            )
        return tuple(notes)

    # --- reachability ---------------------------------------------------------------------

    def _check_reachable(self, rules: list[Rule]) -> None:
        for i, later in enumerate(rules):
            for earlier in rules[:i]:
                if _covers(earlier.match, later.match):
                    self.warnings.append(
                        Problem(
                            later.id,
                            "when",
                            later.line,
                            f"永远不会生效：规则 {earlier.id} 在前，且条件更宽",
                        )
                    )
                    break


_DEFAULT_DESTINATION = {
    Decision.POLICE: "110",
    Decision.JOINT: "110",
    Decision.REVIEW: "review",
    Decision.NON_POLICE: "12345",
}


_SET_CONDITIONS = (
    "decision",
    "police_type",
    "category",
    "hotline",
    "district",
    "nature",
    "urgency",
    "day_type",
)


def _covers(earlier: Match, later: Match) -> bool:
    """True when every call ``later`` matches is matched by ``earlier`` too (conservatively:
    only when each condition of ``earlier`` is implied by the same condition of ``later``)."""
    for name in _SET_CONDITIONS:
        wide, narrow = getattr(earlier, name), getattr(later, name)
        if wide and (not narrow or not narrow <= wide):
            return False
    if earlier.min_probability is not None and (
        later.min_probability is None or later.min_probability < earlier.min_probability
    ):
        return False
    if earlier.max_probability is not None and (
        later.max_probability is None or later.max_probability > earlier.max_probability
    ):
        return False
    if earlier.keywords_any and not (
        later.keywords_any and set(later.keywords_any) <= set(earlier.keywords_any)
    ):
        return False
    if earlier.keywords_all and not set(earlier.keywords_all) <= set(later.keywords_all):
        return False
    if earlier.keywords_none or earlier.regex or earlier.time_of_day:
        return earlier.keywords_none == later.keywords_none and (
            earlier.regex == later.regex and earlier.time_of_day == later.time_of_day
        )
    return True


def can_read_strong_police(match: Match) -> bool:
    """Could a call whose police probability is at least the strong level meet ``match``?"""
    if match.decision and "police" not in match.decision:
        return False
    return match.max_probability is None or match.max_probability >= STRONG_POLICE_PROBABILITY


def always_strong_police(match: Match) -> bool:
    return match.min_probability is not None and match.min_probability >= STRONG_POLICE_PROBABILITY


def _police_first_outcome(action: Action) -> str:
    if action.decision is Decision.EMERGENCY:
        return f" {action.destination} 联动并同时由 110 派警"
    agencies = [t.split(":", 1)[1] for t in (action.destination, *action.also) if ":" in t]
    if agencies and action.police_first is PoliceFirst.JOINT:
        return f" 110 先行派警、{'、'.join(agencies)} 协办的联动处置"
    return " 110 派警"


def normalise_pattern(pattern: str) -> str:
    """A rule's regex, compared the way the transcript is: full-width folded (NFKC; case is
    left to re.IGNORECASE). A character that NFKC turns into regex syntax (（ → "(") stays a
    literal, so folding never changes what the pattern means."""
    out: list[str] = []
    escaped = False
    for char in pattern:
        if char == " ":  # the transcript has no spaces: a space, escaped or not, is dropped
            if escaped:
                out.pop()
            escaped = False
            continue
        folded = unicodedata.normalize("NFKC", char)
        out.append(re.escape(folded) if folded != char else char)
        escaped = char == "\\" and not escaped
    return "".join(out)


def normalise(text: str) -> str:
    """How keywords and transcripts are compared: full-width folded, case-insensitive, spaces
    ignored. One function for both sides, so a keyword always matches its own spelling."""
    return unicodedata.normalize("NFKC", text or "").casefold().replace(" ", "")
