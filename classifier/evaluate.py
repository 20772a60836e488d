"""Evaluation of a model on labelled data: the numbers in the model card and the CLI."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from classifier import artifacts, metrics
from classifier.data import Example, read_csv
from classifier.errors import DataError
from classifier.predict import NON_POLICE, POLICE, Classifier

_POLICE_VALUES = {
    "1": True,
    "0": False,
    "police": True,
    "non_police": False,
    "true": True,
    "false": False,
    "是": True,
    "否": False,
}


def evaluate_bundle(bundle: artifacts.Bundle, examples: Sequence[Example]) -> dict[str, Any]:
    classifier = Classifier(bundle)
    predictions = classifier.predict_many([e.text for e in examples])
    # A "review" result goes to a person, not to 12345: it is not a diversion.
    diverted = [p.decision == NON_POLICE for p in predictions]
    report = {
        "police": metrics.police_metrics([e.police for e in examples], diverted),
        "threshold": classifier.threshold,
        "level1": metrics.classification_report(
            [e.level1 for e in examples], [p.category_level1 or "" for p in predictions]
        ),
    }
    police_rows = [
        (e, p)
        for e, p in zip(examples, predictions, strict=True)
        if e.police and p.decision == POLICE
    ]
    if police_rows:
        report["police_type"] = metrics.classification_report(
            [e.police_type for e, _ in police_rows], [p.police_type or "" for _, p in police_rows]
        )
    return report


# The probability from which the routing engine sends a call to 110 whatever the rules say
# (hotline.rules.schema.STRONG_POLICE_PROBABILITY; the classifier imports nothing from hotline,
# and a test keeps the two equal).
STRONG_POLICE_PROBABILITY = 0.5


def evaluate_slices(
    bundle: artifacts.Bundle, slices: dict[str, list[Example]]
) -> dict[str, dict[str, Any]]:
    """Per evaluation slice: police recall at the threshold, the share of police matters read
    strongly (sent to 110 whatever a topic rule says), and the share of civic calls diverted."""
    classifier = Classifier(bundle)
    report: dict[str, dict[str, Any]] = {}
    for name, examples in slices.items():
        predictions = classifier.predict_many([e.text for e in examples])
        entry = metrics.police_metrics(
            [e.police for e in examples], [p.decision == NON_POLICE for p in predictions]
        )
        police = [p for e, p in zip(examples, predictions, strict=True) if e.police]
        civic = [p for e, p in zip(examples, predictions, strict=True) if not e.police]
        entry["police_strong"] = (
            round(sum(_strong(p) for p in police) / len(police), 4) if police else None
        )
        entry["civic_strong"] = (
            round(sum(_strong(p) for p in civic) / len(civic), 4) if civic else None
        )
        report[name] = entry
    return report


def _strong(p: Any) -> bool:
    return p.police_probability is not None and p.police_probability >= STRONG_POLICE_PROBABILITY


def evaluate_file(
    model_path: Path | None, data: Path, text_column: str, label_column: str
) -> dict[str, Any]:
    """Police evaluation when the labels are 0/1 (police/non_police), else category (level 1)."""
    rows = read_csv(data, (text_column, label_column))
    if not rows:
        raise DataError(f"{data}: 没有数据行")
    classifier = Classifier.load(model_path)
    texts = [r[text_column] for r in rows]
    labels = [(r[label_column] or "").strip() for r in rows]
    predictions = classifier.predict_many(texts)
    if all(label.lower() in _POLICE_VALUES for label in labels):
        truth = [_POLICE_VALUES[label.lower()] for label in labels]
        decisions = [p.decision if p.decision != "review" else POLICE for p in predictions]
        report = metrics.classification_report(
            [POLICE if t else NON_POLICE for t in truth], decisions
        )
        report["police"] = metrics.police_metrics(truth, [d == NON_POLICE for d in decisions])
        report["task"] = "police"
    else:
        report = metrics.classification_report(
            labels, [p.category_level1 or "" for p in predictions]
        )
        report["task"] = "category_level1"
    report["threshold"] = classifier.threshold
    report["reviews"] = sum(p.decision == "review" for p in predictions)
    report["data"] = str(data)
    return report


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def format_report(report: dict[str, Any]) -> str:
    lines = [f"数据：{report['data']}（{report['n']} 条，任务 {report['task']}）", ""]
    width = max(_width(label) for label in report["labels"]) + 2
    lines.append(f"{_pad('类别', width)}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for label, row in report["per_class"].items():
        lines.append(
            f"{_pad(label, width)}{row['precision']:>10.4f}{row['recall']:>10.4f}"
            f"{row['f1']:>10.4f}{row['support']:>9}"
        )
    lines += ["", f"macro-F1 {report['macro_f1']:.4f}   accuracy {report['accuracy']:.4f}", ""]
    lines.append("混淆矩阵（行为真实类别，列为预测类别的编号）：")
    lines.append(" " * (width + 3) + "".join(f"{i:>5}" for i in range(len(report["labels"]))))
    for i, (label, row) in enumerate(
        zip(report["labels"], report["confusion_matrix"], strict=True)
    ):
        lines.append(f"{i:>2} {_pad(label, width)}" + "".join(f"{n:>5}" for n in row))
    if "police" in report:
        p = report["police"]
        lines += [
            "",
            f"警情阈值 {report['threshold']:.4f}：警情召回率 {p['police_recall']}"
            f"（漏判 {p['police_missed']}/{p['police_total']}），"
            f"分流精确率 {p['diversion_precision']}，分流率 {p['diversion_rate']}",
        ]
    if report.get("reviews"):
        lines.append(f"需人工审核 {report['reviews']} 条（无中文或为空）")
    return "\n".join(lines)
