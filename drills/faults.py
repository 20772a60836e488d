"""Fault drills (issue 7): what the platform survives, and that afterwards every accepted call
has exactly one ticket and every ticket's event log is complete.

    .venv/bin/python -m drills.faults [--short] [SCENARIO ...]

Scenarios: workers, schedulers, postgres, sqlite, outbox, config (all by default). Each prints
what it did, its figures and PASS/FAIL with the store audit; the command exits 1 on any FAIL.
Needs the local PostgreSQL at 127.0.0.1:5432 (user postgres, trust), root for pg_ctlcluster and
the tmpfs mount of the SQLite drill. See docs/drills.md, "Fault drills".
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable

from drills import _faults_config, _faults_outbox, _faults_sqlite, _faults_stack
from drills._faults_stack import Result
from drills.common import machine, today

SCENARIOS: dict[str, Callable[[bool], Result]] = {
    "workers": _faults_stack.worker_kills,
    "schedulers": _faults_stack.schedulers,
    "postgres": _faults_stack.postgres_restart,
    "sqlite": _faults_sqlite.sqlite_read_only,
    "outbox": _faults_outbox.outbox_outage,
    "config": _faults_config.bad_configuration,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drills.faults", description=__doc__)
    parser.add_argument("--short", action="store_true", help="the CI version (~2.5 min)")
    parser.add_argument("scenarios", nargs="*", choices=[[], *SCENARIOS], metavar="SCENARIO")
    args = parser.parse_args(argv)
    names = args.scenarios or list(SCENARIOS)
    print(f"Fault drills, {'short' if args.short else 'long'}, {today()} on {machine()}")
    results: list[tuple[Result, float]] = []
    for name in names:
        print(f"\n== {name}", flush=True)
        began = time.monotonic()
        try:
            result = SCENARIOS[name](args.short)
        except Exception:
            traceback.print_exc()
            result = Result(name, ok=False, lines=["the drill itself failed (see above)"])
        seconds = time.monotonic() - began
        verdict = "SKIP" if result.skipped else "PASS" if result.ok else "FAIL"
        print(f"{verdict} {name}: {result.name} ({seconds:.0f} s){result.skipped or ''}")
        results.append((result, seconds))
    print("\n== summary")
    for (result, seconds), name in zip(results, names, strict=True):
        verdict = "SKIP" if result.skipped else "PASS" if result.ok else "FAIL"
        print(f"{verdict} {name:<10} {seconds:5.0f} s  {result.name}")
    failed = [r for r, _ in results if not r.ok and not r.skipped]
    print("FAIL" if failed else "PASS", f"({len(results)} scenarios, {len(failed)} failed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
