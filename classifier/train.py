"""Training: measure the feature choices, fit the models, choose the police threshold, report.

Data: the authored corpus (classifier/corpus), any extra labelled files (the learning loop),
and — when the shared data folder exists — the public citizen messages for the category model.
A stratified 20 % of the authored corpus is held out; the shipped model never sees it, and
the model card's police figures are measured on it.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from classifier import artifacts, metrics
from classifier.data import (
    CORPUS_DIR,
    EVALUATION_DIR,
    Example,
    fingerprint,
    load_all_citizen_messages,
    load_corpus,
    load_evaluation_slices,
)
from classifier.errors import DataError
from classifier.pipeline import (
    FEATURE_CHOICES,
    Features,
    category_model,
    category_pipeline,
    fit_on_shared,
    fit_shared_features,
    police_model,
    police_pipeline,
)

REQUIRED_RECALL = 0.99
# The threshold is chosen on out-of-fold scores for a little more than the requirement, so
# that the unseen hold-out still clears it.
SELECTION_RECALL = 0.995
HOLDOUT_SHARE = 0.2
LEVEL2_MIN_EXAMPLES = 15
REAL_MESSAGES = Path("citizen_messages")  # every labelled CSV in it
N_JOBS = 2  # the machines this runs on have two cores


@dataclass
class TrainingResult:
    bundle: artifacts.Bundle
    holdout: list[Example]
    report: dict[str, Any] = field(default_factory=dict)


def _refuse_evaluation_leaks(authored: Sequence[Example], evaluation_dir: Path) -> None:
    """An evaluation slice measures what the model has never seen: the same text in the
    training data would make its figures a lie."""
    seen = {e.text for e in authored}
    for examples in load_evaluation_slices(evaluation_dir).values():
        for e in examples:
            if e.text in seen:
                raise DataError(f"{e.source}: 评估集的文本也在训练语料中，请删去其中一处")


def split_holdout(examples: Sequence[Example], seed: int) -> tuple[list[Example], list[Example]]:
    """Deterministic split by a hash of the text, so adding data moves no existing example."""
    train, holdout = [], []
    for e in examples:
        digest = hashlib.sha256(f"{seed}:{e.text}".encode()).digest()
        (holdout if digest[0] < 256 * HOLDOUT_SHARE else train).append(e)
    return train, holdout


def _texts(examples: Sequence[Example]) -> list[str]:
    return [e.text for e in examples]


def _with_variants(examples: Sequence[Example]) -> tuple[list[str], list[str]]:
    """Texts and level-1 labels for category training: each example and its variants."""
    texts, labels = [], []
    for e in examples:
        for text in (e.text, *e.variants):
            texts.append(text)
            labels.append(e.level1)
    return texts, labels


def _police_labels(examples: Sequence[Example]) -> np.ndarray:
    return np.array(["1" if e.police else "0" for e in examples])


def compare_features(
    train: Sequence[Example], real: Sequence[Example], seed: int
) -> dict[str, dict[str, float]]:
    """Cross-validated scores for char, word and both, on the police and the category task."""
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    texts, labels = _texts(train), _police_labels(train)
    results: dict[str, dict[str, float]] = {}
    for kind in FEATURE_CHOICES:
        scores = cross_val_predict(
            category_pipeline(kind, c=4.0, seed=seed),
            texts,
            labels,
            cv=folds,
            method="predict_proba",
            n_jobs=N_JOBS,
        )[:, 1]
        police = labels == "1"
        t = metrics.threshold_for_recall(scores, police, REQUIRED_RECALL)
        at = metrics.police_metrics(police, scores < t)
        entry = {
            "police_diversion_rate_at_recall_0.99": at["diversion_rate"],
            "police_diversion_precision": at["diversion_precision"],
        }
        if real:
            entry["category_macro_f1_real"] = real_message_macro_f1(train, real, kind, seed)
        results[kind] = entry
    return results


def real_message_macro_f1(
    authored: Sequence[Example], real: Sequence[Example], kind: Features, seed: int
) -> float:
    return real_message_report(authored, real, kind, seed)["macro_f1"]


def real_message_report(
    authored: Sequence[Example], real: Sequence[Example], kind: Features, seed: int
) -> dict[str, Any]:
    """5-fold CV over the real messages, the authored corpus always in training; the training
    folds' messages are also learnt from their bodies alone, the test folds are read as
    shipped (``message_text``)."""
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    labels = np.array([e.level1 for e in real])

    def fold(train_index: np.ndarray, test_index: np.ndarray) -> tuple[list[str], list[str]]:
        fold_train = list(authored) + [real[i] for i in train_index]
        model = category_pipeline(kind, seed=seed).fit(*_with_variants(fold_train))
        return list(labels[test_index]), list(model.predict([real[i].text for i in test_index]))

    results = Parallel(n_jobs=N_JOBS)(
        delayed(fold)(a, b) for a, b in folds.split(np.zeros(len(real)), labels)
    )
    truth = [label for t, _ in results for label in t]
    predicted = [label for _, p in results for label in p]
    return metrics.classification_report(truth, predicted)


def train(
    corpus_dir: Path = CORPUS_DIR,
    shared_data: Path | None = None,
    extra: Sequence[Path] = (),
    seed: int = 2026,
    features: Features | None = None,
    log: Any = print,
    evaluation_dir: Path = EVALUATION_DIR,
) -> TrainingResult:
    started = time.perf_counter()
    authored = load_corpus(corpus_dir, extra)
    real_folder = shared_data / REAL_MESSAGES if shared_data else None
    real = load_all_citizen_messages(real_folder) if real_folder and real_folder.is_dir() else []
    train_set, holdout = split_holdout(authored, seed)
    _refuse_evaluation_leaks(authored, evaluation_dir)
    log(
        f"语料 {len(authored)} 条（训练 {len(train_set)}，留出 {len(holdout)}），"
        f"公开留言 {len(real)} 条"
    )

    comparison: dict[str, dict[str, float]] = {}
    if features is None:
        log("比较特征：字 n-gram / 词 n-gram / 两者 …")
        comparison = compare_features(train_set, real, seed)
        features = _winner(comparison)
    log(f"采用特征：{features}")

    texts, labels = _texts(train_set), _police_labels(train_set)
    police_truth = labels == "1"
    oof = cross_val_predict(
        police_pipeline(features, seed=seed),
        texts,
        labels,
        cv=StratifiedKFold(n_splits=5, shuffle=True, random_state=seed),
        method="predict_proba",
        n_jobs=N_JOBS,
    )[:, 1]
    threshold = metrics.threshold_for_recall(oof, police_truth, SELECTION_RECALL)

    # One vocabulary for every model, fitted on every training text (no labels involved).
    category_data = list(train_set) + list(real)
    category_texts, category_labels = _with_variants(category_data)
    union = fit_shared_features(features, category_texts)
    police = fit_on_shared(union, police_model(seed=seed), texts, list(labels))
    police_train = [e for e in train_set if e.police]
    police_type = fit_on_shared(
        union,
        category_model(seed=seed),
        _texts(police_train),
        [e.police_type for e in police_train],
    )
    level1 = fit_on_shared(union, category_model(seed=seed), category_texts, category_labels)
    level2_counts = Counter(f"{e.level1}/{e.level2}" for e in train_set if e.level2)
    level2_data = [
        e
        for e in train_set
        if e.level2 and level2_counts[f"{e.level1}/{e.level2}"] >= LEVEL2_MIN_EXAMPLES
    ]
    level2 = (
        fit_on_shared(
            union,
            category_model(seed=seed),
            _texts(level2_data),
            [f"{e.level1}/{e.level2}" for e in level2_data],
        )
        if len({f"{e.level1}/{e.level2}" for e in level2_data}) >= 2
        else None
    )

    real_f1 = real_message_macro_f1(train_set, real, features, seed) if real else None
    bundle = artifacts.Bundle(police, police_type, level1, level2, metadata={})
    bundle.metadata = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "features": features,
        "feature_comparison": comparison,
        "feature_choice_rule": (
            "mean of (non-police diverted at police recall 0.99, real-message category "
            f"macro-F1); a richer feature set must beat a simpler one by {SIMPLER_WINS_WITHIN} "
            "and be worse on neither"
        ),
        "police_threshold": round(threshold, 6),
        "required_police_recall": REQUIRED_RECALL,
        "threshold_selection": (
            f"out-of-fold (5-fold) calibrated probabilities on the training split; highest "
            f"threshold keeping {SELECTION_RECALL} of police matters"
        ),
        "data": {
            "authored_examples": len(authored),
            "authored_train": len(train_set),
            "authored_holdout": len(holdout),
            "authored_sha256": fingerprint(authored),
            "extra_files": [str(p) for p in extra],
            "real_messages": len(real),
            "real_message_files": sorted({e.source.split(":", 1)[0] for e in real}),
            "real_messages_sha256": fingerprint(real) if real else None,
            "police_examples": sum(e.police for e in authored),
            "police_types": dict(Counter(e.police_type for e in authored if e.police)),
            "level1": dict(Counter(e.level1 for e in category_data)),
            "level2_classes": sorted(
                level2_counts_key
                for level2_counts_key, n in level2_counts.items()
                if n >= LEVEL2_MIN_EXAMPLES
            ),
        },
        "metrics": {
            "real_messages_level1_macro_f1_cv5": real_f1,
        },
    }
    result = TrainingResult(bundle=bundle, holdout=holdout)
    from classifier.evaluate import evaluate_bundle, evaluate_slices

    result.report = evaluate_bundle(bundle, holdout)
    bundle.metadata["metrics"]["holdout"] = result.report
    slices = load_evaluation_slices(evaluation_dir)
    if slices:
        every = [e for examples in slices.values() for e in examples]
        bundle.metadata["data"]["evaluation_examples"] = len(every)
        bundle.metadata["data"]["evaluation_sha256"] = fingerprint(every)
        bundle.metadata["metrics"]["evaluation_slices"] = evaluate_slices(bundle, slices)
    bundle.metadata["training_seconds"] = round(time.perf_counter() - started, 1)
    return result


# Each richer feature set costs something at run time (word features: jieba's dictionary at
# start-up, a second vocabulary on disk), so it must win by this much to be chosen.
SIMPLER_WINS_WITHIN = 0.01


def _winner(comparison: dict[str, dict[str, float]]) -> Features:
    """The simplest feature set unless a richer one is better on the mean of the two measures
    by SIMPLER_WINS_WITHIN and worse on neither: a gain in police diversion may not be bought
    with the category figure on real messages, or the other way round."""

    def measures(kind: str) -> list[float]:
        entry = comparison[kind]
        values = [entry["police_diversion_rate_at_recall_0.99"] or 0.0]
        if "category_macro_f1_real" in entry:
            values.append(entry["category_macro_f1_real"])
        return values

    best: Features = FEATURE_CHOICES[0]  # ordered simplest first: char, word, both
    for kind in FEATURE_CHOICES[1:]:
        mine, theirs = measures(kind), measures(best)
        better = float(np.mean(mine)) > float(np.mean(theirs)) + SIMPLER_WINS_WITHIN
        if better and all(a >= b for a, b in zip(mine, theirs, strict=True)):
            best = kind
    return best


def write_holdout(examples: Sequence[Example], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "police", "police_type", "category_level1", "category_level2"])
        for e in examples:
            writer.writerow([e.text, int(e.police), e.police_type, e.level1, e.level2])
