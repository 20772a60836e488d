"""Where the shipped classifier puts labelled calls relative to its threshold and the strong
level (0.5): the table behind "Deciding the unsure band" in docs/routing-safety.md.

    .venv/bin/python scripts/police_band.py
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from classifier.data import load_evaluation_slices, read_csv
from classifier.predict import Classifier
from hotline.rules.schema import STRONG_POLICE_PROBABILITY

HOLDOUT = Path(__file__).resolve().parent.parent / "classifier" / "models" / "holdout.csv"


def main() -> None:
    classifier = Classifier.load()
    sets = {name: [(e.text, e.police) for e in ex] for name, ex in load_evaluation_slices().items()}
    sets["hold-out"] = [(r["text"], r["police"] == "1") for r in read_csv(HOLDOUT)]
    print(f"threshold {classifier.threshold}, strong at {STRONG_POLICE_PROBABILITY}")
    print(
        "| set | police below | police in band | police strong | civic below | civic in band "
        "| civic strong |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, rows in sets.items():
        counts: Counter[tuple[bool, str]] = Counter()
        predictions = classifier.predict_many([text for text, _ in rows])
        for (_, police), p in zip(rows, predictions, strict=True):
            probability = p.police_probability or 0.0
            if probability < classifier.threshold:
                where = "below"
            elif probability < STRONG_POLICE_PROBABILITY:
                where = "band"
            else:
                where = "strong"
            counts[police, where] += 1
        cells = [
            counts[police, where]
            for police in (True, False)
            for where in ("below", "band", "strong")
        ]
        print(f"| {name} | " + " | ".join(str(n) for n in cells) + " |")


if __name__ == "__main__":
    main()
