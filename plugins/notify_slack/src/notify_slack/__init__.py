"""The Slack provider for notify: incoming webhooks, workflow triggers, and a bot token.

What is Slack-specific lives in small private modules: which URLs are Slack's and
what in them is secret (:mod:`._target`), the channel settings (:mod:`._settings`),
mrkdwn escaping (:mod:`._mrkdwn`), the payload and its limits (:mod:`._payload`) and
how Slack answers (:mod:`._answer`). Webhooks go out through the core's plain HTTP
POST. Bot mode (:mod:`._bot`: the token, the channel id, threads and updates) makes
its own Web API calls (:mod:`._web`), because one resolve may be two calls and the
answers are HTTP 200 either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from notify_core.plugin import (
    Channel,
    InvalidTarget,
    Message,
    Outcome,
    Payload,
    ProviderSpec,
    Rate,
    SendContext,
    Target,
    hookimpl,
)

from . import _answer, _bot, _payload, _settings, _target, _web

if TYPE_CHECKING:  # httpx is loaded by the core only when something is sent
    import httpx

__all__ = [
    "NAME",
    "SPEC",
    "build_payload",
    "classify_response",
    "register_providers",
    "send",
    "thread_key",
    "validate_url",
]

NAME = "slack"

SPEC = ProviderSpec(
    name=NAME,
    description=(
        "Slack incoming webhooks (Block Kit), Workflow Builder webhook triggers, "
        "and a bot token (threads, updates)"
    ),
    # Slack allows about one message per second per webhook, and per channel for a bot
    # (Target.destination is the channel id), with short bursts.
    default_rate=Rate(per_second=1.0, burst=3),
    url_patterns=(*_target.URL_PATTERNS, _bot.URL_PATTERN),
    capabilities=frozenset({"rich", "mentions", "threads", "actions", "fields"}),
    # bot mode: where and as whom to post, like a webhook URL (settings say how it looks)
    channel_keys=("token", "channel"),
    secret_keys=("token",),
    requires_url=False,
    limits=_payload.LIMITS,
    example=(
        'url = "${SLACK_WEBHOOK_URL}"\n'
        "# or, as a Slack app's bot (threads, updates): instead of url\n"
        '# token = "${SLACK_BOT_TOKEN}"\n'
        '# channel = "C0123ABCD"'
    ),
)


@hookimpl
def register_providers() -> Sequence[ProviderSpec]:
    return [SPEC]


@hookimpl
def validate_url(channel: Channel) -> Target | None:
    """Check the webhook URL (its last path segment is secret), or the bot token and channel."""
    settings = _settings.parse(channel.settings)
    if _bot.wanted(channel):
        return _bot.validate(channel, settings)
    if not channel.url:
        raise InvalidTarget(
            f"slack needs a url like {_target.EXPECTED}, or a bot token and channel "
            '(token = "${SLACK_BOT_TOKEN}", channel = "C0123ABCD")'
        )
    _settings.refuse_bot_only(channel.settings)
    return _target.validate(channel.url, settings)


@hookimpl
def thread_key(message: Message, target: Target) -> str | None:
    """Bot mode threads by ``thread_id`` or ``dedup_key`` (``settings.thread_by``)."""
    if isinstance(target.state, _bot.Bot):
        return _bot.thread_key(target.state, message)
    return None


@hookimpl
def build_payload(
    channel: Channel, message: Message, target: Target, thread: Mapping[str, Any] | None
) -> Payload | None:
    """Block Kit (or plain ``text``) for a webhook, flat variables for a trigger.

    In bot mode, the Web API calls (``chat.postMessage``, and ``chat.update`` for a
    resolve), with ``thread`` (the first message's ``channel`` and ``ts``) making the
    message a reply. The delivery id is not sent: Slack neither shows nor deduplicates
    by an id.
    """
    if isinstance(target.state, _bot.Bot):
        return _bot.payload(message, target.state, channel.tenant, thread)
    hook: _target.Hook = target.state
    if hook.kind == "trigger":
        return Payload(body=_payload.trigger(message, channel.tenant))
    return Payload(body=_payload.incoming(message, hook.settings, channel.tenant))


@hookimpl
def send(
    channel: Channel, payload: Payload, context: SendContext, client: httpx.AsyncClient
) -> Awaitable[Outcome] | None:
    """Bot mode makes its own Web API calls; webhooks use the core's HTTP send."""
    if isinstance(context.target.state, _bot.Bot):
        return _web.send(channel, payload, context, client)
    return None


@hookimpl
def classify_response(channel: Channel, response: httpx.Response) -> Outcome | None:
    """Slack's error string as the reason; gone webhooks count toward auto-disable."""
    return _answer.classify(response)
