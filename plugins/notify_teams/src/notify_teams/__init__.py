"""The Microsoft Teams provider: Adaptive Cards posted through Power Automate Workflows.

Teams' own incoming webhooks (Office 365 connectors) are retired; a channel now gets
messages from a Workflows flow whose trigger URL accepts the Bot Framework message
envelope around an Adaptive Card. This plugin knows those URLs, that card, and how
the trigger answers (202 with an empty body; Logic Apps JSON errors otherwise). The
core's HTTP send does the exchange.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from notify_core.plugin import (
    Channel,
    Message,
    Outcome,
    Payload,
    ProviderSpec,
    Rate,
    Target,
    generic_outcome,
    hookimpl,
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
#: Where a Logic Apps error body ``{"error": {"code", "message"}}`` says what went wrong.
REASON_FIELDS = ("error.code", "error.message")

SPEC = ProviderSpec(
    name=NAME,
    description="Microsoft Teams channels through Power Automate Workflows (Adaptive Cards)",
    default_rate=Rate(per_second=4, burst=4),
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
    settings = parse_settings(channel.settings)
    return attrs.evolve(_url.validate(channel.url or ""), state=settings)


@hookimpl
def build_payload(channel: Channel, message: Message, target: Target) -> Payload | None:
    return Payload(body=_card.build(channel, message, target.state))


@hookimpl
def classify_response(response: httpx.Response) -> Outcome | None:
    """The core's reading, with the Workflows error code and message as the reason.

    401/403/404/410 count toward auto-disable (a revoked signature, a deleted flow), as
    the core reads them; the run id Logic Apps names is kept with the delivery.
    """
    outcome = generic_outcome(response, reason_fields=REASON_FIELDS)
    run_id = response.headers.get(RUN_ID_HEADER)
    return attrs.evolve(outcome, meta={"workflow_run_id": run_id}) if run_id else outcome
