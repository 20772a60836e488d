"""The classifier commands: clear errors for bad files, readable and JSON reports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from classifier import artifacts
from classifier.cli import group


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(group, list(args), input=input)


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "eval.csv",
        [
            {"text": "有人持刀抢劫，快来", "label": "1"},
            {"text": "楼顶有人要跳楼", "label": "1"},
            {"text": "护照怎么换", "label": "0"},
            {"text": "路灯坏了", "label": "0"},
            {"text": "hello", "label": "0"},
        ],
    )


def test_evaluate_prints_per_class_table_and_police_recall(model_path, labelled) -> None:
    result = run(
        "evaluate",
        "--data",
        str(labelled),
        "--text-column",
        "text",
        "--label-column",
        "label",
        "--model",
        str(model_path),
    )
    assert result.exit_code == 0, result.output
    for expected in ("precision", "recall", "macro-F1", "混淆矩阵", "警情召回率", "人工审核 1"):
        assert expected in result.output


def test_evaluate_json_is_machine_readable(model_path, labelled) -> None:
    result = run(
        "evaluate",
        "--data",
        str(labelled),
        "--text-column",
        "text",
        "--label-column",
        "label",
        "--model",
        str(model_path),
        "--json",
    )
    report = json.loads(result.output)
    assert report["task"] == "police" and report["n"] == 5
    assert set(report["per_class"]) == {"police", "non_police"}
    assert report["police"]["police_total"] == 2
    assert len(report["confusion_matrix"]) == 2


def test_evaluate_category_labels(model_path, tmp_path: Path) -> None:
    data = write_csv(
        tmp_path / "cat.csv",
        [{"t": "路灯坏了", "c": "城乡建设"}, {"t": "老板欠薪", "c": "劳动和社会保障"}],
    )
    report = json.loads(
        run(
            "evaluate",
            "--data",
            str(data),
            "--text-column",
            "t",
            "--label-column",
            "c",
            "--model",
            str(model_path),
            "--json",
        ).output
    )
    assert report["task"] == "category_level1"


def test_missing_column_is_named(model_path, labelled) -> None:
    result = run(
        "evaluate",
        "--data",
        str(labelled),
        "--text-column",
        "body",
        "--label-column",
        "label",
        "--model",
        str(model_path),
    )
    assert result.exit_code == 1
    assert "缺少列 body" in result.output and "text, label" in result.output
    assert "Traceback" not in result.output


def test_invalid_utf8_names_the_line(model_path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes("text,label\n路灯坏了,0\n".encode() + b"\xff\xfe broken,1\n")
    result = run(
        "evaluate",
        "--data",
        str(bad),
        "--text-column",
        "text",
        "--label-column",
        "label",
        "--model",
        str(model_path),
    )
    assert result.exit_code == 1 and "第 3 行不是有效的 UTF-8" in result.output


def test_predict_texts_and_json(model_path) -> None:
    result = run("predict", "--model", str(model_path), "--json", "有人落水了快来救人", "   ")
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines[0]["decision"] in ("police", "non_police")
    assert lines[0]["explanation"] and "term" in lines[0]["explanation"][0]
    assert lines[1]["decision"] == "review" and "为空" in lines[1]["reason"]


def test_predict_reads_stdin(model_path) -> None:
    result = run("predict", "--model", str(model_path), input="路灯坏了\n\n护照怎么办\n")
    assert result.exit_code == 0 and len(result.output.splitlines()) == 2


def test_predict_over_long_text_is_a_clear_error(model_path) -> None:
    result = run("predict", "--model", str(model_path), "报" * 20_001)
    assert result.exit_code == 1 and "文本过长" in result.output


def test_predict_with_a_broken_model_is_a_clear_error(tmp_path: Path) -> None:
    result = run("predict", "--model", str(tmp_path / "none.joblib"), "路灯坏了")
    assert result.exit_code == 1 and "模型文件不存在" in result.output


def test_train_refuses_a_model_with_lower_police_recall(
    mini_corpus, tmp_path: Path, monkeypatch, trained
) -> None:
    output = tmp_path / "model.joblib"
    artifacts.save(trained.bundle, output)
    before = output.read_bytes()
    worse = {**trained.report, "police": {**trained.report["police"], "police_recall": 0.5}}
    monkeypatch.setattr(
        "classifier.train.train",
        lambda *a, **k: type(trained)(bundle=trained.bundle, holdout=trained.holdout, report=worse),
    )
    result = run("train", "--corpus", str(mini_corpus), "--output", str(output))
    assert result.exit_code == 1 and "未替换" in result.output
    assert output.read_bytes() == before
    forced = run("train", "--corpus", str(mini_corpus), "--output", str(output), "--force")
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "MODEL_CARD.md").exists() and (tmp_path / "holdout.csv").exists()


def test_cross_validate_without_labelled_messages_says_where_it_looked(
    model_path: Path, tmp_path: Path
) -> None:
    messages = tmp_path / "citizen_messages"
    messages.mkdir()
    write_csv(messages / "replies.csv", [{"subject": "s", "body": "b", "reply": "r"}])
    result = run("cross-validate", "--shared-data", str(tmp_path), "--model", str(model_path))
    assert result.exit_code != 0
    assert "没有带 subject、body、label 列的留言文件" in result.output
    assert str(messages) in result.output
