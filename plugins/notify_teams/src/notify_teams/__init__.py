"""The Microsoft Teams provider: Adaptive Cards posted through Power Automate Workflows.

Teams' own incoming webhooks (Office 365 connectors) are retired; a channel now gets
messages from a Workflows flow whose trigger URL accepts the Bot Framework message
envelope around an Adaptive Card. This plugin knows those URLs, that card, and how
the trigger answers (202 with an empty body; Logic Apps JSON errors otherwise). The
core's HTTP send does the exchange.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from notify_core.plugin import (
    Channel,
    Message,
    Outcome,
    Payload,
    ProviderSpec,
    Rate,
    RetryPolicy,
    Target,
    generic_outcome,
    hookimpl,
    truncate,
)

from . import _card, _url
from ._card import MAX_PAYLOAD_BYTES
from ._settings import parse_settings

if TYPE_CHECKING:  # httpx is loaded by the core only when something is sent
    import httpx

__all__ = ["MAX_PAYLOAD_BYTES", "NAME", "SPEC"]

NAME = "teams"
#: Logic Apps names the run it started; kept with the delivery to find it in the flow's history.
RUN_ID_HEADER = "x-ms-workflow-run-id"
REASON_CHARS = 300

SPEC = ProviderSpec(
    name=NAME,
    description="Microsoft Teams channels through Power Automate Workflows (Adaptive Cards)",
    default_rate=Rate(per_second=4, burst=4),
    default_retry=RetryPolicy(attempts=5, backoff=1.0, max_delay=300),
    url_patterns=_url.URL_PATTERNS,
    capabilities=frozenset({"rich", "mentions", "actions", "fields"}),
    max_payload_bytes=MAX_PAYLOAD_BYTES,
    limits=_card.LIMITS,
)


@hookimpl
def register_providers() -> Sequence[ProviderSpec]:
    return [SPEC]


@hookimpl
def validate_url(channel: Channel) -> Target | None:
    parse_settings(channel.settings)
    return _url.validate(channel.url or "")


@hookimpl
def build_payload(channel: Channel, message: Message, delivery_id: str) -> Payload | None:
    return Payload(body=_card.build(channel, message, parse_settings(channel.settings)))


@hookimpl
def classify_response(channel: Channel, response: httpx.Response) -> Outcome | None:
    """The core's reading, with the Workflows error code and message as the reason.

    404 means the flow (or its trigger) was deleted: it counts toward auto-disable, as
    the core already does for 401/403/410 (a revoked signature, a refused caller).
    """
    outcome = generic_outcome(response)
    run_id = response.headers.get(RUN_ID_HEADER)
    changes: dict[str, Any] = {}
    if run_id:
        changes["meta"] = {**outcome.meta, "workflow_run_id": run_id}
    if response.status_code >= 400:
        detail = error_detail(response.content)
        if detail:
            changes["reason"] = f"HTTP {response.status_code}: {detail}"
        if response.status_code == 404:
            changes["disables"] = True
    return attrs.evolve(outcome, **changes) if changes else outcome


def error_detail(content: bytes) -> str:
    """``code: message`` from a Logic Apps error body ``{"error": {"code", "message"}}``."""
    try:
        data = json.loads(content)
    except ValueError:
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return ""
    code, message = error.get("code"), error.get("message")
    parts = [str(p) for p in (code, message) if isinstance(p, str | int) and str(p).strip()]
    return truncate(" ".join(": ".join(parts).split()), REASON_CHARS)
