"""Classifying transcripts with a loaded bundle: decision, categories, confidence, and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classifier import artifacts
from classifier.errors import InputError, ModelError
from classifier.fastpath import FeatureExtractor, Features, LinearHead
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
        union = bundle.police.named_steps["features"]
        pipelines = [bundle.police, bundle.police_type, bundle.level1]
        pipelines += [bundle.level2] if bundle.level2 is not None else []
        if any(p.named_steps["features"] is not union for p in pipelines):
            raise ModelError("模型文件中的各个模型没有共用同一套特征，请重新训练")
        self._features = FeatureExtractor(union)
        self._police = LinearHead(bundle.police.named_steps["model"])
        self._police_type = LinearHead(bundle.police_type.named_steps["model"])
        self._level1 = LinearHead(bundle.level1.named_steps["model"])
        self._level2 = (
            LinearHead(bundle.level2.named_steps["model"]) if bundle.level2 is not None else None
        )
        self._police_index = self._police.classes.index("1")

    @classmethod
    def load(cls, path: Path | None = None) -> Classifier:
        classifier = cls(artifacts.load(path or artifacts.DEFAULT_MODEL))
        if classifier._features.uses_words:
            warm_up()  # the jieba dictionary loads at start-up, not on the first call
        return classifier

    def predict(self, text: object) -> Prediction:
        clean = self._clean(text)
        if isinstance(clean, Prediction):
            return clean
        return self._predict_features(self._features(clean))

    def predict_many(self, texts: list[str]) -> list[Prediction]:
        """Batch prediction: same results as ``predict``, features computed in one pass."""
        cleaned = [self._clean(t) for t in texts]
        ready = [c for c in cleaned if isinstance(c, str)]
        computed = iter(self._features.many(ready)) if ready else iter(())
        return [
            c if isinstance(c, Prediction) else self._predict_features(next(computed))
            for c in cleaned
        ]

    def _clean(self, text: object) -> str | Prediction:
        if not isinstance(text, str):
            raise InputError("输入应为文本")
        if len(text) > MAX_CHARS:
            raise InputError(f"文本过长：{len(text)} 字，上限 {MAX_CHARS} 字")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError("文本含有无效的 UTF-8 字节，无法分类") from None
        if not text.strip():
            return self._review("文本为空")
        clean = normalise(text)
        if not has_chinese(clean):
            return self._review("文本中没有中文，无法判断，请人工审核")
        return clean

    def _review(self, reason: str) -> Prediction:
        return Prediction(
            decision=REVIEW, police_probability=None, threshold=self.threshold, reason=reason
        )

    def _predict_features(self, features: Features) -> Prediction:
        police_p = float(self._police.probabilities(features)[self._police_index])
        is_police = police_p >= self.threshold
        level1 = self._level1.probabilities(features)
        best1 = int(np.argmax(level1))
        prediction = Prediction(
            decision=POLICE if is_police else NON_POLICE,
            police_probability=round(police_p, 6),
            threshold=self.threshold,
            category_level1=self._level1.classes[best1],
            category_level1_confidence=round(float(level1[best1]), 6),
            explanation=self._police.contributions(
                features,
                self._features.names,
                output=self._police_index if is_police else 1 - self._police_index,
            ),
        )
        if is_police:
            kinds = self._police_type.probabilities(features)
            best = int(np.argmax(kinds))
            prediction.police_type = self._police_type.classes[best]
            prediction.police_type_confidence = round(float(kinds[best]), 6)
        if self._level2 is not None:
            level2 = self._level2.probabilities(features)
            # Second level only where it agrees with the first level's branch.
            for index in np.argsort(-level2):
                label = self._level2.classes[int(index)]
                if label.startswith(prediction.category_level1 + "/"):
                    prediction.category_level2 = label.split("/", 1)[1]
                    prediction.category_level2_confidence = round(float(level2[index]), 6)
                    break
        return prediction
