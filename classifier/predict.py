"""Classifying transcripts with a loaded bundle: decision, categories, confidence, and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classifier import artifacts
from classifier.errors import InputError
from classifier.fastpath import LinearScorer
from classifier.normalise import MAX_CHARS, has_chinese, normalise
from classifier.tokenize import warm_up

POLICE = "police"
NON_POLICE = "non_police"
REVIEW = "review"


@dataclass
class Prediction:
    decision: str
    police_probability: float | None
    threshold: float
    police_type: str | None = None
    police_type_confidence: float | None = None
    category_level1: str | None = None
    category_level1_confidence: float | None = None
    category_level2: str | None = None
    category_level2_confidence: float | None = None
    explanation: list[tuple[str, float]] = field(default_factory=list)
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["explanation"] = [{"term": t, "weight": w} for t, w in self.explanation]
        return data


class Classifier:
    """A loaded model. Thread-safe for prediction: nothing is mutated after loading."""

    def __init__(self, bundle: artifacts.Bundle) -> None:
        self.bundle = bundle
        self.metadata = bundle.metadata
        self.threshold = float(bundle.metadata["police_threshold"])
        self._police = LinearScorer(bundle.police)
        self._police_type = LinearScorer(bundle.police_type)
        self._level1 = LinearScorer(bundle.level1)
        self._level2 = LinearScorer(bundle.level2) if bundle.level2 is not None else None
        self._police_index = self._police.classes.index("1")

    @classmethod
    def load(cls, path: Path | None = None) -> Classifier:
        classifier = cls(artifacts.load(path or artifacts.DEFAULT_MODEL))
        warm_up()
        return classifier

    def predict(self, text: object) -> Prediction:
        if not isinstance(text, str):
            raise InputError("输入应为文本")
        if len(text) > MAX_CHARS:
            raise InputError(f"文本过长：{len(text)} 字，上限 {MAX_CHARS} 字")
        if not text.strip():
            return self._review("文本为空")
        clean = normalise(text)
        if not has_chinese(clean):
            return self._review("文本中没有中文，无法判断，请人工审核")
        return self._predict_clean(clean)

    def predict_many(self, texts: list[str]) -> list[Prediction]:
        return [self.predict(t) for t in texts]

    def _review(self, reason: str) -> Prediction:
        return Prediction(
            decision=REVIEW, police_probability=None, threshold=self.threshold, reason=reason
        )

    def _predict_clean(self, clean: str) -> Prediction:
        police_p = float(self._police.probabilities(clean)[self._police_index])
        is_police = police_p >= self.threshold
        level1 = self._level1.probabilities(clean)
        best1 = int(np.argmax(level1))
        prediction = Prediction(
            decision=POLICE if is_police else NON_POLICE,
            police_probability=round(police_p, 6),
            threshold=self.threshold,
            category_level1=self._level1.classes[best1],
            category_level1_confidence=round(float(level1[best1]), 6),
            explanation=self._police.contributions(
                clean, output=self._police_index if is_police else 1 - self._police_index
            ),
        )
        if is_police:
            kinds = self._police_type.probabilities(clean)
            best = int(np.argmax(kinds))
            prediction.police_type = self._police_type.classes[best]
            prediction.police_type_confidence = round(float(kinds[best]), 6)
        if self._level2 is not None:
            level2 = self._level2.probabilities(clean)
            # Second level only where it agrees with the first level's branch.
            ranked = np.argsort(-level2)
            for index in ranked:
                label = self._level2.classes[int(index)]
                if label.startswith(prediction.category_level1 + "/"):
                    prediction.category_level2 = label.split("/", 1)[1]
                    prediction.category_level2_confidence = round(float(level2[index]), 6)
                    break
        return prediction
