"""Reading the training data: real messages from every labelled file, evaluation slices kept
apart from the corpus."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from classifier.data import (
    CORPUS_DIR,
    EVALUATION_DIR,
    Example,
    labelled_message_files,
    load_all_citizen_messages,
    load_corpus,
    load_evaluation_slices,
)
from classifier.errors import DataError
from classifier.train import _with_variants, train

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_every_labelled_message_file_is_read_and_each_text_once(tmp_path: Path) -> None:
    header = ["id", "subject", "body", "label"]
    _write(tmp_path / "a.csv", header, [["1", "路灯不亮", "小区路灯坏了一周", "城乡建设"]])
    _write(
        tmp_path / "b.csv",
        header,
        [
            ["7", "路灯不亮", "小区路灯坏了一周", "城乡建设"],  # the same message again
            ["8", "学校收费", "学校乱收补课费", "教育文体"],
            ["9", "无正文", "", "教育文体"],
        ],
    )
    _write(tmp_path / "replies.csv", ["id", "subject", "body", "reply"], [["3", "x", "y", "z"]])
    (tmp_path / "notes.txt").write_text("不是表格", encoding="utf-8")

    assert [p.name for p in labelled_message_files(tmp_path)] == ["a.csv", "b.csv"]
    messages = load_all_citizen_messages(tmp_path)
    assert [(m.level1, m.source) for m in messages] == [
        ("城乡建设", "a.csv:1"),
        ("教育文体", "b.csv:8"),
    ]
    assert messages[1].text.startswith("学校收费。学校收费。")
    assert messages[1].variants == ("学校乱收补课费",)
    assert not messages[0].police


def test_variants_are_trained_on_with_the_label_of_their_example() -> None:
    examples = [
        Example("甲。甲。正文一", False, "", "城乡建设", "", "s:1", variants=("正文一",)),
        Example("有人打架", True, "治安", "政法", "社会治安", "c:2"),
    ]
    assert _with_variants(examples) == (
        ["甲。甲。正文一", "正文一", "有人打架"],
        ["城乡建设", "城乡建设", "政法"],
    )


def test_the_evaluation_slices_share_no_text_with_the_corpus() -> None:
    corpus = {e.text for e in load_corpus(CORPUS_DIR)}
    slices = load_evaluation_slices(EVALUATION_DIR)
    assert {"danger_behind_topic", "threats", "civic_police_words"} <= set(slices)
    assert sum(len(v) for v in slices.values()) >= 200
    assert not [e.text for v in slices.values() for e in v if e.text in corpus]
    assert all(e.police for e in slices["danger_behind_topic"] + slices["threats"])
    assert not any(e.police for e in slices["civic_police_words"])


def test_training_refuses_an_evaluation_text_that_is_also_in_the_corpus(
    mini_corpus: Path, tmp_path: Path
) -> None:
    with (mini_corpus / "mini_corpus.csv").open(encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    evaluation = tmp_path / "evaluation"
    evaluation.mkdir()
    header = ["id", "slice", "text", "police", "police_type", "category_level1"]
    leaked = ["e1", "leak", row["text"], row["police"], row["police_type"], row["category_level1"]]
    _write(evaluation / "leak.csv", [*header, "category_level2"], [[*leaked, ""]])
    corpus = tmp_path / "corpus"
    shutil.copytree(mini_corpus, corpus)
    with pytest.raises(DataError, match="评估集的文本也在训练语料中"):
        train(corpus, None, features="char", seed=3, log=lambda *_: None, evaluation_dir=evaluation)
