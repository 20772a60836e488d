"""Classify + route one call in-process, with the shipped model and routing_rules.yaml.

Run: .venv/bin/python benchmarks/routing_speed.py [--rounds N] [--json OUT]
Target (issue 4): p99 <= 5 ms per call. Texts: the held-out transcripts beside the model.
Reports the whole step (classifier + rules engine) and the rules engine alone.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from classifier_speed import percentile  # noqa: E402

from classifier import artifacts  # noqa: E402
from classifier.data import read_csv  # noqa: E402
from classifier.predict import Classifier  # noqa: E402
from hotline.domain.calendar import WorkingCalendar  # noqa: E402
from hotline.rules.engine import CallFacts, Classification, route  # noqa: E402
from hotline.rules.schema import load_rules  # noqa: E402
from hotline.services.routing import Router  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    texts = [r["text"] for r in read_csv(artifacts.MODELS_DIR / "holdout.csv", ("text",))]
    rules = load_rules(ROOT / "routing_rules.yaml")
    router = Router(Classifier.load(), rules, WorkingCalendar.chinese())
    now = datetime.now(UTC)
    for text in texts[:50]:  # warm-up: jieba, caches
        router.route(text, now)

    whole: list[float] = []
    engine: list[float] = []
    gc.disable()
    try:
        for _ in range(args.rounds):
            for text in texts:
                t0 = time.perf_counter()
                routed = router.route(text, now, district="城东区")
                whole.append((time.perf_counter() - t0) * 1000)
                facts = CallFacts(text, now, district="城东区")
                c = Classification.of(routed.prediction)
                t0 = time.perf_counter()
                route(facts, c, rules, router.calendar)
                engine.append((time.perf_counter() - t0) * 1000)
    finally:
        gc.enable()

    def summary(values: list[float]) -> dict[str, float]:
        return {f"p{int(q * 100)}": round(percentile(values, q), 3) for q in (0.5, 0.95, 0.99)} | {
            "max": round(max(values), 3)
        }

    report = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "calls": len(whole),
        "rules": len(rules.safety_rules) + len(rules.rules),
        "classify_and_route_ms": summary(whole),
        "rules_engine_only_ms": summary(engine),
        "target_p99_ms": 5.0,
    }
    report["target_met"] = report["classify_and_route_ms"]["p99"] <= 5.0
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
