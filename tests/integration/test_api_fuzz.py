"""Schema-driven fuzzing of the transfer API: schemathesis generates valid and invalid requests
from the served OpenAPI description; no request may get a 500, and every answer must match
what the description promises (status codes, headers, response bodies), and every request
the description calls invalid must be refused.

Not checked: that every request the description allows is accepted. Some rules cannot be
said in JSON Schema (a call time no later than now, a phone number's format, no control
characters), so a schema-valid request may still rightly get a 422."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.generation import GenerationMode

from hotline.services.exchange import create_client

EXAMPLES_PER_OPERATION = 40


def test_no_request_breaks_the_api(routed_app, desk) -> None:
    _, key = create_client(desk.ctx(desk.admin), name="fuzzer", hotline="12345")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", routed_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert labels >= {"POST /api/v1/calls", "GET /api/v1/calls/{call_id}", "GET /api/v1/feedback"}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                derandomize=True,  # the same requests every run: a failure is reproducible
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def run(case) -> None:
                case.call_and_validate(
                    headers={"X-API-Key": key}, excluded_checks=[positive_data_acceptance]
                )

            run()
