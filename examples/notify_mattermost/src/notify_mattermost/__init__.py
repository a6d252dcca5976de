"""The Mattermost provider for notify: Slack-compatible posts through incoming webhooks.

A third-party plugin example (see the plugin guide, ``docs/plugins.md``): it checks
``https://<host>/hooks/<key>`` URLs, builds ``text`` and ``attachments`` (pure), and
reads Mattermost's answers (200 ``ok``; JSON errors with an ``id`` and a ``message``).
The core sends, queues, paces, retries, masks the key and keeps the delivery log.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

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
    generic_outcome,
    hookimpl,
    truncate,
)

from . import _post, _settings, _url

if TYPE_CHECKING:  # httpx is loaded by the core only when something is sent
    import httpx

__all__ = ["LIMITS", "NAME", "SPEC", "build_payload", "classify_response", "register_providers"]

NAME = "mattermost"
LIMITS = _post.LIMITS
REASON_CHARS = 300

SPEC = ProviderSpec(
    name=NAME,
    description="Mattermost incoming webhooks: Slack-compatible text and attachments",
    # Self-hosted servers rate-limit per client only when an admin enables it (10/s
    # with bursts by default then): 5/s keeps clear of it and of a busy channel.
    default_rate=Rate(per_second=5, burst=10),
    default_retry=RetryPolicy(attempts=5, backoff=1.0, max_delay=300),
    url_patterns=_url.URL_PATTERNS,
    capabilities=frozenset({"rich", "mentions", "fields", "actions"}),
    limits=LIMITS,
)


@hookimpl
def register_providers() -> Sequence[ProviderSpec]:
    return [SPEC]


@hookimpl
def validate_url(channel: Channel) -> Target | None:
    if not channel.url:
        raise InvalidTarget(f"mattermost needs a url like {_url.EXPECTED}")
    target = _url.validate(channel.url)
    _settings.parse(channel.settings)
    return target


@hookimpl
def build_payload(channel: Channel, message: Message, delivery_id: str) -> Payload | None:
    """``delivery_id`` is not sent: incoming webhooks take no idempotency key."""
    return Payload(body=_post.build(message, _settings.parse(channel.settings), channel.tenant))


@hookimpl
def classify_response(channel: Channel, response: httpx.Response) -> Outcome | None:
    """The core's reading, with Mattermost's error message and id as the reason."""
    outcome = generic_outcome(response)
    if outcome.status == "delivered":
        return attrs.evolve(outcome, reason="ok")
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return outcome
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        return outcome
    detail = " ".join(data["message"].split())
    if isinstance(data.get("id"), str):
        detail += f" ({data['id']})"
    return attrs.evolve(
        outcome, reason=truncate(f"HTTP {response.status_code}: {detail}", REASON_CHARS)
    )
