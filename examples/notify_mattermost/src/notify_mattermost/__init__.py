"""The Mattermost provider for notify: Slack-compatible posts through incoming webhooks.

A third-party plugin example (see the plugin guide, ``docs/plugins.md``): it checks
``https://<host>/hooks/<key>`` URLs, builds ``text`` and ``attachments`` (pure), and
reads Mattermost's answers (200 ``ok``; JSON errors with an ``id`` and a ``message``).
The core sends, queues, paces, retries, masks the key and keeps the delivery log.
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

from . import _post, _settings, _url

if TYPE_CHECKING:  # httpx is loaded by the core only when something is sent
    import httpx

__all__ = ["LIMITS", "NAME", "SPEC", "build_payload", "classify_response", "register_providers"]

NAME = "mattermost"
LIMITS = _post.LIMITS

SPEC = ProviderSpec(
    name=NAME,
    description="Mattermost incoming webhooks: Slack-compatible text and attachments",
    # Self-hosted servers rate-limit per client only when an admin enables it (10/s
    # with bursts by default then): 5/s keeps clear of it and of a busy channel.
    default_rate=Rate(per_second=5, burst=10),
    url_patterns=_url.URL_PATTERNS,
    capabilities=frozenset({"rich", "mentions", "fields", "actions"}),
    limits=LIMITS,
)


@hookimpl
def register_providers() -> Sequence[ProviderSpec]:
    return [SPEC]


@hookimpl
def validate_url(channel: Channel) -> Target | None:
    """The webhook URL (its key is the secret) and the settings, read once."""
    target = _url.validate(channel.url or "")
    return attrs.evolve(target, state=_settings.parse(channel.settings))


@hookimpl
def build_payload(channel: Channel, message: Message, target: Target) -> Payload | None:
    """The delivery id is not sent: incoming webhooks take no idempotency key."""
    return Payload(body=_post.build(message, target.state, channel.tenant))


@hookimpl
def classify_response(response: httpx.Response) -> Outcome | None:
    """The core's reading, with Mattermost's error message and id as the reason."""
    outcome = generic_outcome(response, reason_fields=("message", "id"))
    return attrs.evolve(outcome, reason="ok") if outcome.status == "delivered" else outcome
