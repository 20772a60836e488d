"""Saving and loading the model bundle, with its metadata (the machine-readable model card).

The bundle is one joblib file; its metadata sits beside it as JSON and is read *before*
unpickling, so a model made with other library versions is refused with a clear message
instead of failing somewhere inside scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import joblib
from sklearn.pipeline import Pipeline

from classifier.errors import ModelError

MODELS_DIR = Path(__file__).with_name("models")
DEFAULT_MODEL = MODELS_DIR / "hotline-classifier.joblib"
FORMAT = 1
# Pickled scikit-learn objects are only safe to load with the exact version that made them;
# for the others the major.minor release must match.
EXACT = ("scikit-learn",)
MINOR = ("numpy", "scipy", "jieba", "opencc", "joblib")


@dataclass
class Bundle:
    police: Pipeline
    police_type: Pipeline
    level1: Pipeline
    level2: Pipeline | None
    metadata: dict[str, Any]


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in EXACT + MINOR:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def metadata_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def save(bundle: Bundle, path: Path = DEFAULT_MODEL) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    bundle.metadata = {**bundle.metadata, "format": FORMAT, "libraries": library_versions()}
    tmp = path.with_suffix(".joblib.tmp")
    joblib.dump(
        {
            "format": FORMAT,
            "police": bundle.police,
            "police_type": bundle.police_type,
            "level1": bundle.level1,
            "level2": bundle.level2,
        },
        tmp,
        compress=3,
    )
    tmp.replace(path)  # never leave a half-written model where a good one was
    # The threshold and versions live in the JSON: bind it to this exact model file.
    bundle.metadata["model_sha256"] = file_sha256(path)
    metadata_path(path).write_text(
        json.dumps(bundle.metadata, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )


def read_metadata(path: Path) -> dict[str, Any]:
    meta_file = metadata_path(path)
    if not path.exists():
        raise ModelError(f"模型文件不存在：{path}（可运行 `hotline classifier train` 生成）")
    if not meta_file.exists():
        raise ModelError(f"模型说明文件不存在：{meta_file}；无法确认模型来源，拒绝加载")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"模型说明文件损坏：{meta_file} ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelError(f"{meta_file}: 不支持的模型格式 {meta.get('format')!r}（需要 {FORMAT}）")
    return meta


def check_compatible(meta: dict[str, Any]) -> None:
    made = meta.get("libraries", {})
    here = library_versions()
    problems = []
    for name in EXACT + MINOR:
        built, installed = made.get(name), here.get(name)
        if built is None:
            continue
        same = built == installed if name in EXACT else _minor(built) == _minor(installed)
        if not same:
            problems.append(f"{name} 训练时 {built}，当前 {installed}")
    if problems:
        raise ModelError(
            "模型与当前安装的库版本不一致："
            + "；".join(problems)
            + "。请安装 setup.cfg 中固定的版本，或运行 `hotline classifier train` 重新训练"
        )


def _minor(version: str | None) -> str:
    return ".".join((version or "").split(".")[:2])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load(path: Path = DEFAULT_MODEL) -> Bundle:
    meta = read_metadata(path)
    check_compatible(meta)
    if meta.get("model_sha256") != file_sha256(path):
        raise ModelError(
            f"{path} 与说明文件 {metadata_path(path).name} 不匹配（SHA-256 不同）："
            "两者须来自同一次训练"
        )
    try:
        payload = joblib.load(path)
    except Exception as exc:  # corrupt or truncated files fail in many ways inside pickle
        raise ModelError(f"模型文件损坏或无法读取：{path} ({type(exc).__name__}: {exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelError(f"{path}: 不是本项目的模型文件")
    try:
        return Bundle(
            police=payload["police"],
            police_type=payload["police_type"],
            level1=payload["level1"],
            level2=payload.get("level2"),
            metadata=meta,
        )
    except KeyError as exc:
        raise ModelError(f"{path}: 模型文件缺少 {exc}") from exc
