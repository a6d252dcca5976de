"""The Discord provider for notify: messages with an embed, through a channel webhook.

A third-party plugin, written the way anyone would write one (see the plugin guide,
``docs/plugins.md``): it declares its provider in :func:`register_providers`, checks
webhook URLs and its settings in :func:`validate_url` (the parsed settings travel in
``Target.state``), builds the body in :func:`build_payload` (pure) and reads Discord's
answers in :func:`classify_response`. The core does the rest:
sending, queueing, pacing, retries, masking the token, and the delivery log.
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
    read_json,
)

from . import _embed, _settings, _url

if TYPE_CHECKING:  # httpx is loaded by the core only when something is sent
    import httpx

__all__ = [
    "LIMITS",
    "NAME",
    "SPEC",
    "build_payload",
    "classify_response",
    "register_providers",
    "validate_url",
]

NAME = "discord"
LIMITS = _embed.LIMITS

SPEC = ProviderSpec(
    name=NAME,
    description="Discord channel webhooks: an embed coloured by severity, with fields",
    # A webhook takes about 5 requests per 2 s, and a channel 30 messages a minute:
    # 0.5/s sustained with a burst of 5 stays under both.
    default_rate=Rate(per_second=0.5, burst=5),
    url_patterns=_url.URL_PATTERNS,
    capabilities=frozenset({"rich", "mentions", "threads", "fields"}),
    limits=LIMITS,
)


@hookimpl
def register_providers() -> Sequence[ProviderSpec]:
    return [SPEC]


@hookimpl
def validate_url(channel: Channel) -> Target | None:
    """Check the webhook URL and the settings; the token is the secret."""
    target = _url.validate(channel.url or "")
    return attrs.evolve(target, state=_settings.parse(channel.settings))


@hookimpl
def build_payload(channel: Channel, message: Message, target: Target) -> Payload | None:
    """One embed; a message with a numeric ``thread_id`` goes into that thread.

    The delivery id is not sent: Discord webhooks take no idempotency key or nonce.
    """
    body = _embed.build(message, target.state, channel.tenant)
    url = None
    if message.thread_id and message.thread_id.isdigit():
        url = _url.with_thread(target.url, message.thread_id)
    return Payload(body=body, url=url)


@hookimpl
def classify_response(response: httpx.Response) -> Outcome | None:
    """The core's reading with Discord's words; the precise ``retry_after`` of a 429 body.

    Success is 204 with no body (200 with the created message when the URL has
    ``?wait=true``: its id is kept). Errors are JSON ``{"message": …, "code": …}``; 404
    ``Unknown Webhook`` and 401 ``Invalid Webhook Token`` mean the webhook is gone,
    which the core's reading counts toward auto-disable. A 429's body holds
    ``retry_after`` in fractional seconds, more precise than the ``Retry-After`` header.
    """
    outcome = generic_outcome(
        response, reason_fields=("message", "code"), retry_after_field="retry_after"
    )
    if outcome.status != "delivered":
        return outcome
    message_id = read_json(response).get("id")
    meta = {"message_id": message_id} if isinstance(message_id, str) else {}
    return attrs.evolve(outcome, reason="ok", meta=meta)
