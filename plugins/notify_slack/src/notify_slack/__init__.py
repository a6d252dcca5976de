"""The Slack provider for notify: incoming webhooks (Block Kit) and workflow triggers.

What is Slack-specific lives in small private modules: which URLs are Slack's and
what in them is secret (:mod:`._target`), the channel settings (:mod:`._settings`),
mrkdwn escaping (:mod:`._mrkdwn`), the payload and its limits (:mod:`._payload`) and
how Slack answers (:mod:`._answer`). Sending is the core's plain HTTP POST, so this
plugin implements no ``send`` hook.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from notify_core.plugin import (
    Channel,
    Message,
    Outcome,
    Payload,
    ProviderSpec,
    Rate,
    Target,
    hookimpl,
)

from . import _answer, _payload, _settings, _target

if TYPE_CHECKING:  # httpx is loaded by the core only when something is sent
    import httpx

__all__ = ["NAME", "SPEC", "build_payload", "classify_response", "register_providers"]

NAME = "slack"

SPEC = ProviderSpec(
    name=NAME,
    description="Slack incoming webhooks (Block Kit) and Workflow Builder webhook triggers",
    # Slack allows about one message per second per webhook, with short bursts.
    default_rate=Rate(per_second=1.0, burst=3),
    url_patterns=_target.URL_PATTERNS,
    capabilities=frozenset({"rich", "mentions", "threads", "actions", "fields"}),
    limits=_payload.LIMITS,
)


@hookimpl
def register_providers() -> Sequence[ProviderSpec]:
    return [SPEC]


@hookimpl
def validate_url(channel: Channel) -> Target | None:
    """Check the webhook URL's shape and the settings; the last path segment is secret."""
    return _target.validate(channel.url or "", _settings.parse(channel.settings))


@hookimpl
def build_payload(channel: Channel, message: Message, target: Target) -> Payload | None:
    """Block Kit (or plain ``text``) for a webhook, flat variables for a trigger.

    The delivery id is not sent: Slack webhooks neither show nor deduplicate by an id.
    """
    hook: _target.Hook = target.state
    if hook.kind == "trigger":
        return Payload(body=_payload.trigger(message, channel.tenant))
    return Payload(body=_payload.incoming(message, hook.settings, channel.tenant))


@hookimpl
def classify_response(channel: Channel, response: httpx.Response) -> Outcome | None:
    """Slack's error string as the reason; gone webhooks count toward auto-disable."""
    return _answer.classify(response)
