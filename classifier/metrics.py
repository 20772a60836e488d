"""Metrics shared by training and the evaluate command."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support


def classification_report(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    present = [i for i, label in enumerate(labels) if label in set(truth)]
    return {
        "labels": labels,
        "per_class": {
            label: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        # Macro over the classes that occur in the truth: a class the model invents does not
        # dilute the score, it shows up as lost precision elsewhere.
        "macro_f1": round(float(np.mean([f1[i] for i in present])), 4) if present else 0.0,
        "accuracy": round(float(np.mean(np.asarray(truth) == np.asarray(predicted))), 4),
        "confusion_matrix": confusion_matrix(truth, predicted, labels=labels).tolist(),
        "n": len(truth),
    }


def police_metrics(is_police: Sequence[bool], diverted: Sequence[bool]) -> dict[str, Any]:
    """Recall of police matters (not diverted) and precision of the diversion to 12345."""
    truth = np.asarray(is_police, dtype=bool)
    away = np.asarray(diverted, dtype=bool)
    police_total = int(truth.sum())
    police_kept = int((truth & ~away).sum())
    diverted_total = int(away.sum())
    diverted_right = int((~truth & away).sum())
    non_police_total = int((~truth).sum())
    return {
        "police_recall": round(police_kept / police_total, 4) if police_total else None,
        "diversion_precision": round(diverted_right / diverted_total, 4)
        if diverted_total
        else None,
        "diversion_rate": round(diverted_right / non_police_total, 4) if non_police_total else None,
        "police_missed": police_total - police_kept,
        "police_total": police_total,
        "diverted_total": diverted_total,
        "n": len(truth),
    }


def threshold_for_recall(
    probabilities: Sequence[float], is_police: Sequence[bool], target: float
) -> float:
    """The highest threshold that still keeps ``target`` of the police matters at or above it."""
    scores = np.sort(np.asarray(probabilities)[np.asarray(is_police, dtype=bool)])
    if scores.size == 0:
        raise ValueError("no police examples to choose a threshold on")
    allowed_misses = int(np.floor((1.0 - target) * scores.size))
    return float(scores[allowed_misses])
