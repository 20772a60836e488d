"""Serving without scikit-learn's per-call overhead, with scores identical to the pipelines.

scikit-learn spends ~1 ms per single document building sparse matrices (performance.md).
``LinearScorer`` reuses each fitted vectorizer's own analyzer, vocabulary and idf, then does
the tf-idf weighting, L2 normalisation and dot product with NumPy on the few features present.
Tests check it against ``pipeline.predict_proba`` on the whole corpus.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from classifier.normalise import normalise


@dataclass
class _Block:
    analyzer: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int
    sublinear: bool


class LinearScorer:
    """Scores one normalised text against a fitted normalise → FeatureUnion → linear pipeline."""

    def __init__(self, pipeline: Pipeline) -> None:
        union = pipeline.named_steps["features"]
        self.blocks: list[_Block] = []
        offset = 0
        self.names: list[str] = []
        for name, vectorizer in union.transformer_list:
            assert isinstance(vectorizer, TfidfVectorizer)
            vocabulary = dict(vectorizer.vocabulary_)
            self.blocks.append(
                _Block(
                    analyzer=vectorizer.build_analyzer(),
                    vocabulary=vocabulary,
                    idf=np.asarray(vectorizer.idf_, dtype=np.float64),
                    offset=offset,
                    sublinear=bool(vectorizer.sublinear_tf),
                )
            )
            inverse = [""] * len(vocabulary)
            for term, index in vocabulary.items():
                inverse[index] = f"{name}:{term}"
            self.names.extend(inverse)
            offset += len(vocabulary)

        model = pipeline.named_steps["model"]
        self.calibration: tuple[float, float] | None = None
        if isinstance(model, CalibratedClassifierCV):
            (calibrated,) = model.calibrated_classifiers_
            linear = calibrated.estimator
            sigmoid = calibrated.calibrators[0]
            self.calibration = (float(sigmoid.a_), float(sigmoid.b_))
        else:
            linear = model
        assert isinstance(linear, LogisticRegression)
        self.classes = [str(c) for c in model.classes_]
        # Rows gathered per call: C-contiguous (n_features, n_outputs) makes that a cheap copy.
        self.weights = np.ascontiguousarray(linear.coef_.T, dtype=np.float64)
        self.intercept = np.asarray(linear.intercept_, dtype=np.float64)

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Indices and tf-idf values of the features present in an already-normalised text."""
        indices: list[int] = []
        values: list[float] = []
        for block in self.blocks:
            counts = Counter(t for t in block.analyzer(text) if t in block.vocabulary)
            if not counts:
                continue
            local = np.fromiter((block.vocabulary[t] for t in counts), dtype=np.int64)
            tf = np.fromiter(counts.values(), dtype=np.float64)
            if block.sublinear:
                tf = np.log(tf) + 1.0
            weights = tf * block.idf[local]
            weights /= math.sqrt(float(weights @ weights))
            indices.extend((local + block.offset).tolist())
            values.extend(weights.tolist())
        return np.asarray(indices, dtype=np.int64), np.asarray(values, dtype=np.float64)

    def decision(self, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        return values @ self.weights[indices] + self.intercept

    def probabilities(self, text: str) -> np.ndarray:
        """Class probabilities in ``self.classes`` order, as predict_proba would give them."""
        indices, values = self.features(text)
        scores = self.decision(indices, values)
        if self.calibration is not None:
            a, b = self.calibration
            positive = 1.0 / (1.0 + math.exp(a * float(scores[0]) + b))
            return np.array([1.0 - positive, positive])
        if scores.shape[0] == 1:  # binary logistic regression
            positive = 1.0 / (1.0 + math.exp(-float(scores[0])))
            return np.array([1.0 - positive, positive])
        shifted = np.exp(scores - scores.max())
        return shifted / shifted.sum()

    def contributions(self, text: str, output: int, limit: int = 8) -> list[tuple[str, float]]:
        """The features that pushed output ``output`` up the most, readable and de-duplicated."""
        indices, values = self.features(text)
        if indices.size == 0:
            return []
        column = min(output, self.weights.shape[1] - 1)
        sign = -1.0 if self.weights.shape[1] == 1 and output == 0 else 1.0
        impact = sign * values * self.weights[indices, column]
        order = np.argsort(-impact)
        chosen: list[tuple[str, float]] = []
        for position in order:
            if impact[position] <= 0 or len(chosen) >= limit:
                break
            term = self.names[indices[position]].split(":", 1)[1]
            if len(term.strip()) < 2 and not term.strip().isalnum():
                continue
            if any(term in kept or kept in term for kept, _ in chosen):
                continue
            chosen.append((term, round(float(impact[position]), 4)))
        return chosen


def score_text(scorer: LinearScorer, text: str) -> np.ndarray:
    """Convenience for tests and benchmarks: normalise, then score."""
    return scorer.probabilities(normalise(text))
