"""Classifier speed: single-transcript latency, batch throughput, process start-up.

Run: .venv/bin/python benchmarks/classifier_speed.py [--model PATH] [--json OUT]
Texts are the held-out slice written beside the model (classifier/models/holdout.csv), so
the lengths are those of real-looking calls. Not a test: it prints figures for the docs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifier import artifacts  # noqa: E402
from classifier.data import read_csv  # noqa: E402
from classifier.predict import Classifier  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def startup_seconds(model: Path, runs: int) -> list[float]:
    code = (
        "import time; t = time.perf_counter();"
        "from classifier.predict import Classifier;"
        f"c = Classifier.load(__import__('pathlib').Path({str(model)!r}));"
        "c.predict('楼下有人打架');"
        "print(time.perf_counter() - t)"
    )
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
        results.append(time.perf_counter() - started)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=artifacts.DEFAULT_MODEL)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the texts")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    texts = [r["text"] for r in read_csv(args.model.with_name("holdout.csv"), ("text",))]
    classifier = Classifier.load(args.model)
    for text in texts[:50]:
        classifier.predict(text)  # warm caches

    single: list[float] = []
    for _ in range(args.rounds):
        for text in texts:
            started = time.perf_counter_ns()
            classifier.predict(text)
            single.append((time.perf_counter_ns() - started) / 1e6)

    batch = texts * 3
    started = time.perf_counter()
    classifier.predict_many(batch)
    batch_rate = len(batch) / (time.perf_counter() - started)

    startup = startup_seconds(args.model, runs=5)
    result = {
        "texts": len(texts),
        "mean_chars": round(statistics.mean(len(t) for t in texts), 1),
        "single_ms": {
            "p50": round(percentile(single, 0.50), 3),
            "p95": round(percentile(single, 0.95), 3),
            "p99": round(percentile(single, 0.99), 3),
            "max": round(max(single), 3),
        },
        "batch_per_second": round(batch_rate),
        "startup_seconds": {
            "median": round(statistics.median(startup), 2),
            "max": round(max(startup), 2),
        },
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    print(
        f"\n| single p50 | p95 | p99 | batch | start-up (median / max) |\n|---|---|---|---|---|\n"
        f"| {result['single_ms']['p50']} ms | {result['single_ms']['p95']} ms "
        f"| {result['single_ms']['p99']} ms | {result['batch_per_second']}/s "
        f"| {result['startup_seconds']['median']} s / {result['startup_seconds']['max']} s |"
    )
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
