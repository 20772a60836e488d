"""Run every drill in turn: `python -m drills [--short]`. Each drill is its own process (they
start and kill servers), prints its own report, and this prints the verdicts at the end."""

from __future__ import annotations

import subprocess
import sys
import time

DRILLS = ("load", "faults", "bad_input", "security")


def main(argv: list[str]) -> int:
    flags = [a for a in argv if a.startswith("-")]
    chosen = [a for a in argv if not a.startswith("-")] or list(DRILLS)
    unknown = [name for name in chosen if name not in DRILLS]
    if unknown:
        print(f"unknown drill(s): {', '.join(unknown)}; choose from {', '.join(DRILLS)}")
        return 2
    results: list[tuple[str, int, float]] = []
    for name in chosen:
        print(f"\n===== drill: {name} {' '.join(flags)} =====", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", f"drills.{name}", *flags])
        results.append((name, code, time.monotonic() - started))
    print("\n===== drills =====")
    for name, code, seconds in results:
        print(f"{name:<10} {'PASS' if code == 0 else 'FAIL'}  {seconds:6.0f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
