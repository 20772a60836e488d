"""A small model trained once per test session on tests/fixtures/mini_corpus.csv."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifier import artifacts
from classifier.train import train

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="session")
def mini_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    shutil.copy(FIXTURES / "mini_corpus.csv", folder / "mini_corpus.csv")
    return folder


@pytest.fixture(scope="session")
def trained(mini_corpus: Path):
    return train(mini_corpus, shared_data=None, features="both", seed=3, log=lambda *_: None)


@pytest.fixture(scope="session")
def model_path(trained, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "hotline-classifier.joblib"
    artifacts.save(trained.bundle, path)
    return path


@pytest.fixture(scope="session")
def classifier(model_path: Path):
    from classifier.predict import Classifier

    return Classifier.load(model_path)
