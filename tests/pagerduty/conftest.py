"""What every PagerDuty test checks an event against: PagerDuty's own OpenAPI schema
(``tests/specs/pagerduty-events-v2-openapiv3.json``) plus the length limits that
schema does not encode (DESIGN §6)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import notify_pagerduty
from notify_core import Providers
from notify_core.plugin import Payload

SPEC = Path(__file__).resolve().parents[1] / "specs" / "pagerduty-events-v2-openapiv3.json"


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    """Inline ``$ref``s and turn OpenAPI's ``nullable`` into JSON Schema's null type."""
    if isinstance(node, list):
        return [_resolve(item, root) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _resolve(target, root)
    out = {k: _resolve(v, root) for k, v in node.items() if k not in ("nullable", "examples")}
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def _strict(schema: Any) -> Any:
    """No property the schema does not name (a typo would otherwise pass silently).

    Objects with no declared properties (``custom_details``) stay free-form.
    """
    if isinstance(schema, dict):
        schema = {k: _strict(v) for k, v in schema.items()}
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
    elif isinstance(schema, list):
        schema = [_strict(v) for v in schema]
    return schema


def request_schema(path: str) -> dict[str, Any]:
    assert SPEC.exists(), f"PagerDuty's schema is expected at {SPEC}"
    spec = json.loads(SPEC.read_text())
    body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return _strict(_resolve(copy.deepcopy(body), spec))


@pytest.fixture(scope="session")
def schemas() -> dict[str, jsonschema.Draft7Validator]:
    return {
        path: jsonschema.Draft7Validator(
            request_schema(path), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
        )
        for path in ("/enqueue", "/change/enqueue")
    }


@pytest.fixture(scope="session")
def check_event(schemas: dict[str, jsonschema.Draft7Validator]) -> Callable[..., None]:
    """Assert an event passes the schema of its endpoint and PagerDuty's limits."""

    def check(event: dict[str, Any], endpoint: str = "/enqueue") -> None:
        errors = sorted(schemas[endpoint].iter_errors(event), key=lambda e: list(e.path))
        assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors)
        assert re.fullmatch(r"[A-Za-z0-9]{32}", event["routing_key"])
        assert len(Payload(body=event).content()) <= 512 * 1024
        payload = event.get("payload")
        if endpoint == "/enqueue":
            assert len(event.get("dedup_key", "")) <= 255
            if event["event_action"] == "trigger":
                assert payload is not None
            else:  # acknowledge and resolve: the three fields PagerDuty reads
                assert set(event) == {"routing_key", "event_action", "dedup_key"}
        if payload is not None:
            assert 0 < len(payload["summary"]) <= 1024
            when = datetime.fromisoformat(payload["timestamp"])
            assert when.tzinfo is not None
        for link in event.get("links", []):
            assert link["href"].startswith(("https://", "http://"))

    return check


@pytest.fixture(scope="session")
def providers() -> Providers:
    """Only this plugin, registered the way the core registers any plugin."""
    registry = Providers()
    registry.register(notify_pagerduty, name="pagerduty")
    return registry
