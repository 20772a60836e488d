"""`hotline rules check|diff` and `hotline route` with the shipped model and rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotline import create_app
from hotline.domain.clock import FixedClock
from hotline.models.engine import make_engine

SHIPPED = Path(__file__).parents[2] / "routing_rules.yaml"


@pytest.fixture(scope="module")
def rules_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("routing")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'routing.db'}",
            "SECRET_KEY": "x",
            "CLOCK": FixedClock(datetime(2026, 3, 10, 4, tzinfo=UTC)),
        }
    )
    yield app
    make_engine(app.config["DATABASE_URL"]).dispose()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


CALLS = (
    "id,text,district\n"
    "1,厨房着火了，火很大,\n"
    "2,楼下广场舞音响太吵，每天晚上跳到十点,城东区\n"
    "3,我想问问护照怎么办,\n"
    "4,,\n"
    "5,我们小区停水一天了,\n"
)


def test_route_writes_one_object_per_row_in_input_order(rules_app, tmp_path: Path) -> None:
    calls = write(tmp_path / "calls.csv", CALLS)
    out = tmp_path / "out.jsonl"
    result = rules_app.test_cli_runner().invoke(
        args=["route", "--input", str(calls), "--text-column", "text", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5]
    for key in (
        "decision",
        "destination",
        "category_level1",
        "category_level2",
        "police_probability",
        "rules",
        "explanation",
    ):
        assert all(key in r for r in rows), key
    assert [(r["decision"], r["destination"]) for r in rows] == [
        ("emergency", "119"),
        ("non_police", "12345:donghu-street"),
        ("non_police", "12345:police110"),
        ("review", "review"),  # an empty transcript is for a person to judge
        ("non_police", "12345:water"),
    ]
    assert rows[0]["rules"] == ["S-FIRE"] and "安全规则 S-FIRE" in rows[0]["explanation"]


def test_route_refuses_a_csv_without_the_text_column(rules_app, tmp_path: Path) -> None:
    calls = write(tmp_path / "calls.csv", "id,transcript\n1,x\n")
    result = rules_app.test_cli_runner().invoke(
        args=["route", "--input", str(calls), "--output", str(tmp_path / "o.jsonl")]
    )
    assert result.exit_code == 1 and "缺少列 text" in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_rules_check_reports_problems_with_their_lines(rules_app, tmp_path: Path) -> None:
    runner = rules_app.test_cli_runner()
    ok = runner.invoke(args=["rules", "check", str(SHIPPED), "--no-db"])
    assert ok.exit_code == 0 and "有效" in ok.output and "安全规则 18 条" in ok.output
    # the police-first guarantee: every topic rule it can override is named, with the outcome
    assert "警情优先（引擎保证，不可关闭）" in ok.output
    assert "规则 T-TRANSPORT，字段 then：分类器判为警情且概率 ≥ 0.50 时，引擎改为 110 派警" in (
        ok.output
    )
    assert (
        "规则 L-WAGES，字段 then：分类器判为警情且概率 ≥ 0.50 时，引擎改为 110 先行派警、hrss 协办"
        in (ok.output)
    )
    assert "S-FIRE，字段 then" not in ok.output and "规则 K-NON-POLICE，" not in ok.output
    bad = write(
        tmp_path / "bad.yaml",
        "version: 2\ncity: 示范市\nrules:\n  - id: X\n    when: {keywords_any: [吵]}\n"
        "    then: {decision: non_police, destination: '12345:nowhere', deadline_policy: slow}\n",
    )
    result = runner.invoke(args=["rules", "check", str(bad)])
    assert result.exit_code == 1
    assert "第 6 行，规则 X，字段 deadline_policy：未知的时限规则 'slow'" in result.output


def test_rules_check_asks_the_database_for_agency_codes(rules_app, tmp_path: Path) -> None:
    runner = rules_app.test_cli_runner()
    runner.invoke(args=["db", "upgrade"])
    # An empty directory: every agency in the shipped file is unknown to this database.
    result = runner.invoke(args=["rules", "check", str(SHIPPED)])
    assert result.exit_code == 1 and "未知的单位编码 'gas'" in result.output


def test_rules_diff_lists_every_call_whose_destination_changes(rules_app, tmp_path: Path):
    calls = write(tmp_path / "calls.csv", CALLS)
    text = SHIPPED.read_text(encoding="utf-8")
    new = write(
        tmp_path / "new.yaml",
        text.replace("version: 1", "version: 2").replace(
            'destination: "12345:water"', 'destination: "12345:housing"'
        ),
    )
    result = rules_app.test_cli_runner().invoke(
        args=["rules", "diff", str(SHIPPED), str(new), "--calls", str(calls)]
    )
    assert result.exit_code == 0, result.output
    changed = [line for line in result.output.splitlines() if line.startswith("第")]
    assert changed == [
        "第 5 行 '我们小区停水一天了': non_police:12345:water [U-WATER]"
        " → non_police:12345:housing [U-WATER]"
    ]
    assert "5 个来电中去向改变 1 个（旧版本 1 → 新版本 2）" in result.output
