"""The Discord provider for notify: messages with an embed, through a channel webhook.

A third-party plugin, written the way anyone would write one (see the plugin guide,
``docs/plugins.md``): it declares its provider in :func:`register_providers`, checks
webhook URLs in :func:`validate_url`, builds the body in :func:`build_payload` (pure)
and reads Discord's answers in :func:`classify_response`. The core does the rest:
sending, queueing, pacing, retries, masking the token, and the delivery log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from notify_core.plugin import (
    Channel,
    InvalidTarget,
    Message,
    Outcome,
    Payload,
    ProviderSpec,
    Rate,
    RetryPolicy,
    Target,
    hookimpl,
)

from . import _answer, _embed, _settings, _url

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
    default_retry=RetryPolicy(attempts=5, backoff=1.0, max_delay=300),
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
    if not channel.url:
        raise InvalidTarget(f"discord needs a url like {_url.EXPECTED}")
    target = _url.validate(channel.url)
    _settings.parse(channel.settings)
    return target


@hookimpl
def build_payload(channel: Channel, message: Message, delivery_id: str) -> Payload | None:
    """One embed; a message with a numeric ``thread_id`` goes into that thread.

    ``delivery_id`` is not sent: Discord webhooks take no idempotency key or nonce.
    """
    body = _embed.build(message, _settings.parse(channel.settings), channel.tenant)
    url = None
    if message.thread_id and message.thread_id.isdigit() and channel.url:
        url = _url.with_thread(channel.url, message.thread_id)
    return Payload(body=body, url=url)


@hookimpl
def classify_response(channel: Channel, response: httpx.Response) -> Outcome | None:
    return _answer.classify(response)
