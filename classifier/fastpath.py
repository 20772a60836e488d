"""Serving without scikit-learn's per-call overhead, with scores identical to the pipelines.

scikit-learn spends ~1 ms per single document building sparse matrices (performance.md).
``FeatureExtractor`` reuses each fitted vectorizer's own analyzer, vocabulary and idf and does
the tf-idf weighting and L2 normalisation with NumPy on the few features present;
``LinearHead`` is one fitted linear model as a weight matrix. All the models of a bundle share
one extractor, so a transcript is analysed once. Tests check both against ``predict_proba``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

Features = tuple[np.ndarray, np.ndarray]  # (indices, tf-idf values) of one document


@dataclass
class _Block:
    analyzer: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int
    sublinear: bool


class FeatureExtractor:
    """The features of one normalised text, as a fitted FeatureUnion of tf-idf vectorizers
    would compute them (sparse row), but without building a sparse matrix."""

    def __init__(self, union: FeatureUnion) -> None:
        self.union = union
        self.blocks: list[_Block] = []
        self.names: list[str] = []
        self.uses_words = False
        offset = 0
        for _name, vectorizer in union.transformer_list:
            assert isinstance(vectorizer, TfidfVectorizer)
            self.uses_words |= vectorizer.analyzer == "word"
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
                inverse[index] = term
            self.names.extend(inverse)
            offset += len(vocabulary)

    def __call__(self, text: str) -> Features:
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

    def many(self, texts: list[str]) -> list[Features]:
        """Batch: scikit-learn's vectorised transform is faster per document than the loop."""
        matrix = sparse.csr_matrix(self.union.transform(texts))
        return [
            (
                matrix.indices[start:end].astype(np.int64),
                matrix.data[start:end].astype(np.float64),
            )
            for start, end in zip(matrix.indptr[:-1], matrix.indptr[1:], strict=True)
        ]


class LinearHead:
    """One fitted (optionally sigmoid-calibrated) logistic regression over shared features."""

    def __init__(self, model: object) -> None:
        self.calibration: tuple[float, float] | None = None
        if isinstance(model, CalibratedClassifierCV):
            (calibrated,) = model.calibrated_classifiers_
            linear = calibrated.estimator
            sigmoid = calibrated.calibrators[0]
            self.calibration = (float(sigmoid.a_), float(sigmoid.b_))
        else:
            linear = model
        assert isinstance(linear, LogisticRegression)
        self.classes = [str(c) for c in model.classes_]  # type: ignore[attr-defined]
        # Rows are gathered per call: C-contiguous (n_features, n_outputs) makes that cheap.
        self.weights = np.ascontiguousarray(linear.coef_.T, dtype=np.float64)
        self.intercept = np.asarray(linear.intercept_, dtype=np.float64)

    def probabilities(self, features: Features) -> np.ndarray:
        """Class probabilities in ``self.classes`` order, as predict_proba would give them."""
        indices, values = features
        scores = values @ self.weights[indices] + self.intercept
        if self.calibration is not None:
            a, b = self.calibration
            positive = 1.0 / (1.0 + math.exp(a * float(scores[0]) + b))
            return np.array([1.0 - positive, positive])
        if scores.shape[0] == 1:  # binary logistic regression
            positive = 1.0 / (1.0 + math.exp(-float(scores[0])))
            return np.array([1.0 - positive, positive])
        shifted = np.exp(scores - scores.max())
        return shifted / shifted.sum()

    def contributions(
        self, features: Features, names: list[str], output: int, limit: int = 8
    ) -> list[tuple[str, float]]:
        """The features that pushed class ``output`` up the most, readable and de-duplicated."""
        indices, values = features
        if indices.size == 0:
            return []
        # Same order whichever way the features were computed (single or batch): by feature
        # index first, then a stable sort on impact, so ties break identically.
        by_index = np.argsort(indices, kind="stable")
        indices, values = indices[by_index], values[by_index]
        binary = self.weights.shape[1] == 1
        column = 0 if binary else output
        sign = -1.0 if binary and output == 0 else 1.0
        impact = sign * values * self.weights[indices, column]
        chosen: list[tuple[str, float]] = []
        for position in np.argsort(-impact, kind="stable"):
            if impact[position] <= 0 or len(chosen) >= limit:
                break
            term = names[indices[position]].strip()
            if len(term) < 2:
                continue  # single characters and spaces explain nothing to a person
            if any(term in kept or kept in term for kept, _ in chosen):
                continue
            chosen.append((term, round(float(impact[position]), 4)))
        return chosen
