"""Training, the fast scorer, predictions, explanations and the artifact round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import opencc
import pytest

from classifier import artifacts
from classifier.data import load_corpus
from classifier.errors import InputError, ModelError
from classifier.fastpath import FeatureExtractor, LinearHead
from classifier.metrics import police_metrics, threshold_for_recall
from classifier.normalise import normalise
from classifier.predict import Classifier


def test_threshold_keeps_the_required_share_of_police() -> None:
    probabilities = [0.1, 0.2, 0.3, 0.9, 0.95, 0.4, 0.35]
    police = [False, False, False, True, True, True, True]
    assert threshold_for_recall(probabilities, police, 1.0) == 0.35
    assert threshold_for_recall(probabilities, police, 0.75) == 0.4
    with pytest.raises(ValueError):
        threshold_for_recall([0.5], [False], 0.99)


def test_police_metrics() -> None:
    result = police_metrics([True, True, False, False, False], [False, True, True, True, False])
    assert result["police_recall"] == 0.5 and result["police_missed"] == 1
    assert result["diversion_precision"] == 0.6667 and result["diversion_rate"] == 0.6667


def test_fast_scorer_matches_scikit_learn(trained, mini_corpus: Path) -> None:
    texts = [e.text for e in load_corpus(mini_corpus)] + ["完全没见过的句子", "井盖 井盖 井盖"]
    bundle = trained.bundle
    extractor = FeatureExtractor(bundle.police.named_steps["features"])
    batch = extractor.many([normalise(t) for t in texts])
    for pipeline in (bundle.police, bundle.police_type, bundle.level1):
        head = LinearHead(pipeline.named_steps["model"])
        expected = pipeline.predict_proba(texts)
        single = np.array([head.probabilities(extractor(normalise(t))) for t in texts])
        batched = np.array([head.probabilities(f) for f in batch])
        assert [str(c) for c in pipeline.classes_] == head.classes
        np.testing.assert_allclose(single, expected, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(batched, expected, rtol=1e-9, atol=1e-12)


def test_all_models_share_one_feature_union(trained) -> None:
    union = trained.bundle.police.named_steps["features"]
    for pipeline in (trained.bundle.police_type, trained.bundle.level1):
        assert pipeline.named_steps["features"] is union


def test_batch_prediction_equals_single_prediction(classifier, mini_corpus: Path) -> None:
    texts = [e.text for e in load_corpus(mini_corpus)] + ["", "hello", "   "]
    assert classifier.predict_many(texts) == [classifier.predict(t) for t in texts]


def test_threshold_and_metadata_are_stored(trained) -> None:
    meta = trained.bundle.metadata
    assert 0.0 < meta["police_threshold"] < 1.0
    assert meta["features"] == "both"
    assert meta["data"]["authored_examples"] == 48
    assert len(meta["data"]["authored_sha256"]) == 64
    assert trained.report["police"]["n"] == len(trained.holdout)


def test_predictions_have_decision_category_and_reasons(classifier) -> None:
    police = classifier.predict("有人拿着刀在楼下抢包，快来")
    assert police.decision == "police" and police.police_probability >= classifier.threshold
    assert police.police_type is not None and police.category_level1 == "政法"
    assert police.explanation and all(weight > 0 for _, weight in police.explanation)
    civic = classifier.predict("我想问一下护照过期了怎么换新的")
    assert civic.decision == "non_police" and civic.police_type is None
    assert civic.police_probability < classifier.threshold


def test_traditional_input_classifies_like_simplified(classifier) -> None:
    to_traditional = opencc.OpenCC("s2t")
    for text in ("楼下有人打架，有人流血了", "小区门口路灯坏了好几天", "老板欠我工资不给"):
        assert classifier.predict(to_traditional.convert(text)) == classifier.predict(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "为空"), ("   \n\t ", "为空"), ("hello 123 ???", "没有中文")],
)
def test_empty_and_non_chinese_text_goes_to_review(classifier, text: str, reason: str) -> None:
    result = classifier.predict(text)
    assert result.decision == "review" and reason in result.reason
    assert result.police_probability is None


def test_over_long_and_non_text_input_are_errors(classifier) -> None:
    with pytest.raises(InputError, match="20000"):
        classifier.predict("报" * 20_001)
    with pytest.raises(InputError):
        classifier.predict(b"bytes")  # type: ignore[arg-type]
    assert classifier.predict("报" * 20_000).decision in ("police", "non_police")
    broken = b"\xff\xfe".decode("utf-8", "surrogateescape") + "有人打架"
    with pytest.raises(InputError, match="UTF-8"):
        classifier.predict(broken)


def test_round_trip_gives_identical_predictions(trained, model_path: Path) -> None:
    direct = Classifier(trained.bundle)
    loaded = Classifier.load(model_path)
    for text in ("有人落水了", "路灯不亮", "刷单被骗了"):
        assert direct.predict(text) == loaded.predict(text)


def _copy_model(model_path: Path, tmp_path: Path) -> Path:
    target = tmp_path / model_path.name
    target.write_bytes(model_path.read_bytes())
    artifacts.metadata_path(target).write_text(
        artifacts.metadata_path(model_path).read_text(encoding="utf-8"), encoding="utf-8"
    )
    return target


def test_other_library_versions_are_refused_clearly(model_path: Path, tmp_path: Path) -> None:
    copy = _copy_model(model_path, tmp_path)
    meta_file = artifacts.metadata_path(copy)
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta["libraries"]["scikit-learn"] = "0.24.2"
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match=r"scikit-learn 训练时 0\.24\.2"):
        Classifier.load(copy)


def test_corrupt_or_missing_model_files_are_refused(model_path: Path, tmp_path: Path) -> None:
    copy = _copy_model(model_path, tmp_path)
    copy.write_bytes(copy.read_bytes()[:500])
    meta_file = artifacts.metadata_path(copy)
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    meta["model_sha256"] = artifacts.file_sha256(copy)  # get past the pairing check
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="损坏"):
        Classifier.load(copy)
    artifacts.metadata_path(copy).unlink()
    with pytest.raises(ModelError, match="说明文件不存在"):
        Classifier.load(copy)
    with pytest.raises(ModelError, match="不存在"):
        Classifier.load(tmp_path / "nothing.joblib")


def test_model_and_metadata_from_different_trainings_are_refused(
    model_path: Path, tmp_path: Path
) -> None:
    copy = _copy_model(model_path, tmp_path)
    with copy.open("ab") as handle:
        handle.write(b"\0")  # still loadable by joblib, but no longer the file the JSON describes
    with pytest.raises(ModelError, match="不匹配"):
        Classifier.load(copy)


@pytest.mark.parametrize(
    ("both", "expected"),
    [
        ((0.90, 0.84), "char"),  # more diversion bought with the real-message category figure
        ((0.90, 0.86), "both"),  # better on both measures and on the mean by > 0.01
        ((0.865, 0.855), "char"),  # better on both, but by less than 0.01 on the mean
    ],
)
def test_a_richer_feature_set_must_win_on_the_mean_and_lose_on_neither(both, expected) -> None:
    from classifier.train import _winner

    def entry(diverted: float, f1: float) -> dict[str, float]:
        return {"police_diversion_rate_at_recall_0.99": diverted, "category_macro_f1_real": f1}

    comparison = {"char": entry(0.86, 0.85), "word": entry(0.84, 0.76), "both": entry(*both)}
    assert _winner(comparison) == expected
