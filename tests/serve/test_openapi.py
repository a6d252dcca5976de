"""schemathesis against the served OpenAPI document: generated requests for every operation
over real HTTP; no 5xx, and every answer matches the status codes, content types and
schemas the document declares. Bounded: a few dozen examples per operation."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from notify_core.testing import RecordingServer

from .conftest import TOKEN, Served, webhook_config

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 25


def test_every_operation_keeps_to_the_document(serve: Any, recorder: RecordingServer) -> None:
    served: Served = serve(webhook_config(recorder), "--no-worker", token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with served.client() as client:
        doc = client.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    schema = schemathesis.openapi.from_dict(doc)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = sorted(op.label for op in operations)
    assert "POST /v1/alertmanager" in labels and "GET /v1/deliveries/{delivery_id}" in labels
    failures: dict[str, str] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: Any) -> None:
            case.call_and_validate(base_url=served.url, headers=auth, checks=CHECKS)

        try:
            check()
        except Exception as exc:  # collect them all: one report names every operation
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:2000]
    assert failures == {}
