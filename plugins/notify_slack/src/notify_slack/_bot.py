"""Bot mode: a Slack app's bot token, a channel id, threads and updates (the Web API).

Incoming webhooks return no message ``ts``, so nothing can be threaded under or
updated. With a bot token (``xoxb-…``, scope ``chat:write``) notify calls
``chat.postMessage`` and ``chat.update`` instead, with the same Block Kit as webhooks.

A channel is in bot mode when it sets ``token`` and ``channel`` (channel keys, like
PagerDuty's ``routing_key``: they say where and as whom to post, while ``settings``
say how messages look), or, ad hoc, with a URL that carries both::

    notify send --url "slack://$SLACK_BOT_TOKEN@C0123ABCD" -t "Deployed"

The token is the secret: masked everywhere (``slack://xoxb-****@C0123ABCD``), sent only
in the ``Authorization`` header, never in a payload. The channel id is public and is
what the rate limit paces (``Target.destination``): Slack allows about one message per
second per channel, whichever token posts.

Threads: the core asks :func:`thread_key` which thread a message belongs to, keeps the
``channel`` and ``ts`` Slack returned for its first message in the store, and passes
them back to :func:`payload` for the next ones, which become replies (``thread_ts``). A
resolve (``state = "resolve"``, or an event in ``resolve_events``) replies, updates the
first message to show it resolved, or both (``on_resolve``), and ends the thread.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from notify_core.plugin import (
    Channel,
    InvalidTarget,
    Message,
    Payload,
    Severity,
    Target,
    severity_color,
)

from ._mrkdwn import escape, fit
from ._payload import TEXT_OBJECT, date_token, incoming
from ._settings import Settings

API = "https://slack.com/api/"
POST = "chat.postMessage"
UPDATE = "chat.update"
#: Slack wants the charset named (it warns ``missing_charset`` otherwise).
CONTENT_TYPE = "application/json; charset=utf-8"
URL_PATTERN = r"slack://"
EXPECTED_URL = "slack://xoxb-…@C0123ABCD (a bot token, then a channel id)"

_MASK = "****"
#: Bot and user tokens, and rotating ones (``xoxe.xoxb-…``); the rest is Slack's business.
_TOKEN = re.compile(r"(?P<kind>(?:xoxe\.)?xox[bp]-)[A-Za-z0-9-]{10,250}")
#: Public channels (C…), private ones (G…, older) and direct messages (D…).
_CHANNEL = re.compile(r"[CGD][A-Z0-9]{6,20}")
_URL = re.compile(r"slack://(?P<token>[^@/?#\s]*)@(?P<channel>[^@/?#\s]*)")
#: A Slack message timestamp: a ``thread_id`` of this shape is used as ``thread_ts`` as is.
_TS = re.compile(r"[0-9]{9,10}\.[0-9]{6}")


@attrs.frozen
class Bot:
    """What ``validate_url`` learnt about a bot-mode channel (``Target.state``)."""

    token: str = attrs.field(repr=False)
    channel: str
    settings: Settings


def wanted(channel: Channel) -> bool:
    """Whether the channel asks for bot mode (a ``slack://`` URL, or token/channel keys)."""
    return bool(
        (channel.url or "").startswith("slack://")
        or "token" in channel.options
        or "channel" in channel.options
    )


def validate(channel: Channel, settings: Settings) -> Target:
    """The Web API target, or :class:`InvalidTarget` naming ``url``, ``token`` or ``channel``."""
    url = channel.url or ""
    if url.startswith("slack://"):
        if "token" in channel.options or "channel" in channel.options:
            raise InvalidTarget(
                "slack: give the bot token and channel either in a slack:// url or as "
                "token and channel, not both",
                key="token" if "token" in channel.options else "channel",
            )
        match = _URL.fullmatch(url)
        if not match:
            raise InvalidTarget(f"slack url must look like {EXPECTED_URL}; got {_shown(url)}")
        token, channel_id, key = match["token"], match["channel"], "url"
    else:
        if url:
            raise InvalidTarget(
                "slack: a channel posts through an incoming webhook url or a bot token "
                "and channel, not both (remove url, or token and channel)",
                key="url",
            )
        token = _text(channel.options.get("token"), "token")
        channel_id = _text(channel.options.get("channel"), "channel")
        key = ""
    if not _TOKEN.fullmatch(token):
        raise InvalidTarget(
            f"slack token must be a bot token like xoxb-… (OAuth & Permissions → Bot User "
            f"OAuth Token); got {_masked_token(token)}",
            key=key or "token",
        )
    if not _CHANNEL.fullmatch(channel_id):
        shown = channel_id if len(channel_id) <= 24 else channel_id[:21] + "…"
        raise InvalidTarget(
            f"slack channel must be a channel id like C0123ABCD (channel details → About → "
            f"Channel ID; names change, ids do not); got {shown!r}",
            key=key or "channel",
        )
    return Target(
        url=API + POST,
        secrets=(token,),
        display=f"slack://{_masked_token(token)}@{channel_id}",
        public=(channel_id,),
        destination=channel_id,
        state=Bot(token, channel_id, settings),
    )


def _text(value: Any, key: str) -> str:
    if value is None:
        other = "channel" if key == "token" else "token"
        raise InvalidTarget(
            f"slack bot mode needs both token and channel; {key} is missing (e.g. token = "
            f'"${{SLACK_BOT_TOKEN}}", channel = "C0123ABCD"; {other} is set)',
            key=key,
        )
    if not isinstance(value, str) or not value.strip():
        raise InvalidTarget(f"slack {key} must be a non-empty string", key=key)
    return value.strip()


def _masked_token(token: str) -> str:
    """``xoxb-****``: the kind of token is useful to see, nothing of the secret is."""
    match = re.match(r"(?:xoxe\.)?xox[a-z]-", token)
    return (match.group(0) if match else "") + _MASK


def _shown(url: str) -> str:
    """A ``slack://`` URL of the wrong shape as an error may show it: everything masked."""
    return "slack://" + _MASK if len(url) > len("slack://") else url


# -- threads -----------------------------------------------------------------------------


def thread_key(bot: Bot, message: Message) -> str | None:
    """The thread of ``message`` in the bot's channel, per ``settings.thread_by``.

    The key names the Slack channel and the setting, so a channel moved elsewhere or
    threaded by another key starts new threads rather than replying to old ones. A
    ``thread_id`` that is already a Slack ``ts`` is used as ``thread_ts`` directly and
    needs no stored thread.
    """
    by = bot.settings.thread_by
    if by == "none":
        return None
    value = message.thread_id if by == "thread_id" else message.dedup_key
    if not value or not value.strip() or (by == "thread_id" and _TS.fullmatch(value)):
        return None
    return f"{bot.channel} {by}={value.strip()}"


def payload(
    message: Message, bot: Bot, tenant: str | None, thread: Mapping[str, Any] | None
) -> Payload:
    """The Web API calls for one message: usually one ``chat.postMessage``.

    The body lists the calls in order (``{"calls": [{"method", "args"}, …]}``) so that a
    dry run shows exactly what is sent. A resolve with a thread may update the thread's
    first message (``chat.update``) as well as, or instead of, replying; in the
    "instead" case the reply is kept as a ``fallback``, sent only if the message can no
    longer be updated (deleted, too old), so the resolve is never lost.
    """
    settings = bot.settings
    resolving = settings.resolves(message.state, message.event)
    body = incoming(message, settings, tenant)
    body.pop("thread_ts", None)
    post: dict[str, Any] = {"channel": bot.channel, **body}
    ts = thread.get("ts") if thread else None
    if not isinstance(ts, str) and bot.settings.thread_by == "thread_id":
        ts = message.thread_id if message.thread_id and _TS.fullmatch(message.thread_id) else None
    if isinstance(ts, str):
        post["channel"] = _channel_of(thread, bot)
        post["thread_ts"] = ts
        if settings.broadcasts(resolving):
            post["reply_broadcast"] = True
    calls: list[dict[str, Any]] = [{"method": POST, "args": post}]
    updating = resolving and settings.on_resolve in ("update", "both")
    if updating and thread is not None and isinstance(thread.get("ts"), str):
        calls.insert(0, {"method": UPDATE, "args": _update(message, bot, tenant, thread)})
        if settings.on_resolve == "update":
            calls[1]["fallback"] = True
    result: dict[str, Any] = {"calls": calls}
    if resolving:
        result["end_thread"] = True
    return Payload(body=result, url=API + calls[0]["method"], content_type=CONTENT_TYPE)


def _channel_of(thread: Mapping[str, Any] | None, bot: Bot) -> str:
    """The channel id Slack answered with for the thread (the one ``chat.update`` needs)."""
    channel = thread.get("channel") if thread else None
    return channel if isinstance(channel, str) and channel else bot.channel


def _update(
    message: Message, bot: Bot, tenant: str | None, thread: Mapping[str, Any]
) -> dict[str, Any]:
    """``chat.update`` of the thread's first message: its content, marked resolved.

    The first message's blocks (kept in the thread's metadata when ``on_resolve``
    updates) stay as they were, buttons included; the coloured context line under them
    becomes green and says resolved, when, and by whom (``data["resolved_by"]``). Without
    stored blocks (a plain-text first message) the resolve's own rendering replaces it.
    """
    resolved = attrs.evolve(message, state="resolve")
    own = incoming(resolved, bot.settings, tenant)
    own.pop("thread_ts", None)
    args: dict[str, Any] = {"channel": _channel_of(thread, bot), "ts": thread["ts"], **own}
    blocks = thread.get("blocks")
    if isinstance(blocks, list) and blocks:
        args["blocks"] = blocks
        args["attachments"] = [
            {
                "color": severity_color(Severity.INFO),
                "blocks": [{"type": "context", "elements": _resolved_context(message, tenant)}],
            }
        ]
    return args


def _resolved_context(message: Message, tenant: str | None) -> list[dict[str, Any]]:
    items = ["*resolved*", date_token(message.timestamp)]
    who = message.data.get("resolved_by")
    if isinstance(who, str) and who.strip():
        items.append(f"by {escape(who.strip())}")
    if message.event.strip():
        items.append(escape(message.event.strip()))
    if tenant:
        items.append(f"tenant: {escape(tenant)}")
    return [{"type": "mrkdwn", "text": fit(t, TEXT_OBJECT)} for t in items]
