"""The shipped routing_rules.yaml against a table of sample calls written for the tests
(tests/fixtures/shipped_rules_calls.yaml): each row names the classifier reading to assume,
so the outcome depends on the rules alone, and the rule that must decide it. Every rule of the
shipped file must decide at least one sample, so a new rule cannot arrive untested."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline.rules.engine import Classification
from hotline.rules.schema import load_rules
from tests.unit.test_rules import SHIPPED, TUESDAY_NOON, decide

TABLE = Path(__file__).parents[1] / "fixtures" / "shipped_rules_calls.yaml"
ROWS: list[dict[str, Any]] = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
SAMPLES = [r for r in ROWS if "known_issue" not in r]
MIN_SAMPLES = 60

ROW_KEYS = {
    "text",
    "classifier",
    "district",
    "hotline",
    "nature",
    "urgency",
    "received_at",
    "expect",
    "known_issue",
}
CLASSIFIER_KEYS = {
    "decision",
    "police_probability",
    "police_type",
    "category_level1",
    "category_level2",
}
REQUIRED_EXPECT = {"rule", "decision", "destination", "also"}
OPTIONAL_EXPECT = {
    "priority",
    "assisting",
    "informed",
    "three_party_call",
    "deadline_policy",
    "fired",
}
DEFAULT = "default"  # the rule name of a row the file's default decides


def _row_id(index: int, row: dict[str, Any]) -> str:
    return f"{index:03d}-{row['expect']['rule']}"


def _params() -> list[Any]:
    params = []
    for index, row in enumerate(ROWS, start=1):
        marks = []
        if "known_issue" in row:
            marks.append(pytest.mark.xfail(reason=row["known_issue"], strict=True))
        params.append(pytest.param(row, id=_row_id(index, row), marks=marks))
    return params


def _route(row: dict[str, Any]):
    ruleset = load_rules(SHIPPED)
    reading = Classification(**row["classifier"])
    at = datetime.fromisoformat(row["received_at"]) if "received_at" in row else TUESDAY_NOON
    facts = {k: row[k] for k in ("district", "hotline", "nature", "urgency") if k in row}
    return decide(ruleset, row["text"], reading, at=at, **facts)


@pytest.mark.parametrize("row", _params())
def test_a_sample_call_goes_where_the_table_says(row: dict[str, Any]) -> None:
    expect = row["expect"]
    result = _route(row)
    deciding = result.rules[0] if result.rules else DEFAULT
    assert (deciding, result.decision.value, result.destination, list(result.also)) == (
        expect["rule"],
        expect["decision"],
        expect["destination"],
        expect["also"],
    ), result.explanation
    for key in OPTIONAL_EXPECT - {"fired"}:
        if key in expect:
            actual = getattr(result, key)
            assert (list(actual) if isinstance(actual, tuple) else actual) == expect[key], key
    if "fired" in expect:
        assert list(result.rules) == expect["fired"], result.explanation


def test_the_table_is_well_formed_and_has_enough_samples() -> None:
    assert len(SAMPLES) >= MIN_SAMPLES
    texts = [r["text"] for r in ROWS]
    assert len(texts) == len(set(texts)), "duplicate sample"
    for row in ROWS:
        assert set(row) <= ROW_KEYS and {"text", "classifier", "expect"} <= set(row), row
        assert set(row["classifier"]) <= CLASSIFIER_KEYS and "decision" in row["classifier"], row
        assert REQUIRED_EXPECT <= set(row["expect"]) <= REQUIRED_EXPECT | OPTIONAL_EXPECT, row
        assert isinstance(row["expect"]["also"], list), row


def test_every_shipped_rule_decides_at_least_one_sample() -> None:
    ruleset = load_rules(SHIPPED)
    ids = {rule.id for rule in ruleset.all_rules()}
    decided = {row["expect"]["rule"] for row in SAMPLES}
    assert decided - ids - {DEFAULT} == set(), "the table names rules the file does not have"
    assert ids - decided == set(), "shipped rules without a sample call in the table"
    assert DEFAULT in decided


def test_the_table_covers_every_outcome_and_the_safety_precedence() -> None:
    decisions = {row["expect"]["decision"] for row in SAMPLES}
    assert decisions == {"police", "non_police", "emergency", "joint", "review"}
    # several safety rules fire at once, and the first of them in the file decides
    together = [r["expect"] for r in SAMPLES if len(r["expect"].get("fired", [])) > 1]
    assert len(together) >= 3 and all(e["fired"][0] == e["rule"] for e in together)
    assert {r.get("hotline") for r in SAMPLES} >= {"110", "12345"}
