"""Schema-driven fuzzing of the live API over HTTP (schemathesis 4's strategy API, as in
tests/integration/test_api_fuzz.py, whose pytest plugin does not load on pytest 9).

Every answer is counted by status and validated against the served OpenAPI description; a
5xx or an answer the description does not allow is a failure. As in the test, a request the
schema allows may still rightly be refused (rules JSON Schema cannot say), so
``positive_data_acceptance`` is not checked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.generation import GenerationMode


@dataclass
class FuzzResult:
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)
    transferred: set[int] = field(default_factory=set)  # calls the API said it transferred
    queued: set[int] = field(default_factory=set)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def fuzz(base_url: str, api_key: str, examples: int, *, derandomize: bool) -> FuzzResult:
    result = FuzzResult()
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    http = requests.Session()
    for operation in (item.ok() for item in schema.get_all_operations()):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_one(result, operation, mode, base_url, api_key, http, examples, derandomize)
    return result


def _fuzz_one(result, operation, mode, base_url, api_key, http, examples, derandomize) -> None:
    counts = result.by_operation.setdefault(operation.label, Counter())
    headers = {"X-API-Key": api_key}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=derandomize,  # the short run sends the same requests every time
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case) -> None:
        response = case.call(base_url=base_url, session=http, headers=headers)
        result.statuses[response.status_code] += 1
        counts[response.status_code] += 1
        _remember(result, operation.label, response)
        try:
            case.validate_response(
                response, excluded_checks=[positive_data_acceptance], headers=headers
            )
        except Exception as exc:  # every failed check is a finding, and must not stop the run
            first = str(exc).strip().splitlines()[:6]
            result.mismatches.append(f"{operation.label}: " + " | ".join(first))

    run()


def _remember(result: FuzzResult, label: str, response) -> None:
    if label != "POST /api/v1/calls" or response.status_code not in (201, 202):
        return
    try:
        call_id = int(response.json()["call_id"])
    except (ValueError, KeyError, TypeError):
        return
    (result.transferred if response.status_code == 201 else result.queued).add(call_id)
