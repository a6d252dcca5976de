"""The ``settings`` table of a Slack channel, read once and checked strictly.

Unknown keys are errors rather than ignored: ``mention_on_failures = true`` (one letter
off) silently doing nothing is exactly the kind of mistake found only during an
incident. Errors are :class:`InvalidTarget` so that they surface when the channel is
validated (``notify check``, the first send), naming the key.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any, Literal, cast

import attrs

from notify_core.plugin import InvalidTarget, SettingsReader

Broadcast = Literal["channel", "here"]
ThreadBy = Literal["thread_id", "dedup_key", "none"]
OnResolve = Literal["reply", "update", "both"]
ReplyBroadcast = Literal["never", "always", "resolve"]

#: Settings that need the Web API (a bot token): a webhook returns no message ``ts``,
#: so it can neither start a thread of its own nor update a message.
BOT_ONLY = ("thread_by", "on_resolve", "reply_broadcast", "resolve_events")
KNOWN = ("rich", "mention_on_failure", "mention_users", *BOT_ONLY)
#: Member ids (``U…``, ``W…`` for Enterprise Grid) and user-group ids (``S…``).
_MEMBER = re.compile(r"[UW][A-Z0-9]{2,20}")
_GROUP = re.compile(r"S[A-Z0-9]{2,20}")


@attrs.frozen
class Settings:
    """What a Slack channel's settings mean for the payload."""

    rich: bool = True
    mention_on_failure: Broadcast | None = None
    mention_users: tuple[str, ...] = ()
    #: what makes messages one thread (bot mode): the message's ``thread_id``, its
    #: explicit ``dedup_key``, or nothing
    thread_by: ThreadBy = "thread_id"
    #: what a resolve does to its thread (bot mode): a reply, an update of the first
    #: message, or both
    on_resolve: OnResolve = "reply"
    reply_broadcast: ReplyBroadcast = "never"
    #: events (globs) that end a thread like a ``state = "resolve"`` message does
    resolve_events: tuple[str, ...] = ()

    def resolves(self, state: str, event: str) -> bool:
        """Whether a message with this state and event resolves its thread."""
        return state == "resolve" or any(fnmatch.fnmatchcase(event, p) for p in self.resolve_events)

    def broadcasts(self, resolving: bool) -> bool:
        """Whether a reply is also shown in the channel (Slack's ``reply_broadcast``)."""
        return self.reply_broadcast == "always" or (self.reply_broadcast == "resolve" and resolving)

    def user_mentions(self) -> list[str]:
        """``<@U…>`` for members, ``<!subteam^S…>`` for user groups (Slack's syntax)."""
        return [f"<!subteam^{u}>" if _GROUP.fullmatch(u) else f"<@{u}>" for u in self.mention_users]


def parse(settings: Mapping[str, Any]) -> Settings:
    """Read a channel's settings; :class:`InvalidTarget` names the offending key."""
    read = SettingsReader("slack", settings, KNOWN)
    return Settings(
        rich=read.flag("rich", True),
        mention_on_failure=_broadcast(read),
        mention_users=_users(read),
        thread_by=cast(
            "ThreadBy", read.choice("thread_by", ("thread_id", "dedup_key", "none"), "thread_id")
        ),
        on_resolve=cast(
            "OnResolve", read.choice("on_resolve", ("reply", "update", "both"), "reply")
        ),
        reply_broadcast=_reply_broadcast(read),
        resolve_events=read.strings("resolve_events"),
    )


def refuse_bot_only(settings: Mapping[str, Any]) -> None:
    """Thread settings on a webhook channel: an error, not settings that silently do nothing."""
    for key in BOT_ONLY:
        if key in settings:
            raise InvalidTarget(
                f"slack settings.{key} needs a bot token: threads and updates use the Web "
                "API (set token and channel instead of an incoming webhook url)",
                key=f"settings.{key}",
            )


def _reply_broadcast(read: SettingsReader) -> ReplyBroadcast:
    value = read.get("reply_broadcast", False)
    if value is False:
        return "never"
    if value is True:
        return "always"
    if value == "resolve":
        return "resolve"
    raise read.error("reply_broadcast", 'must be true, false or "resolve"')


def _broadcast(read: SettingsReader) -> Broadcast | None:
    value = read.get("mention_on_failure", False)
    if value is True or value == "channel":
        return "channel"
    if value == "here":
        return "here"
    if value is False or value is None:
        return None
    raise read.error("mention_on_failure", 'must be true, false, "channel" or "here"')


def _users(read: SettingsReader) -> tuple[str, ...]:
    if isinstance(read.get("mention_users"), str):
        raise read.error("mention_users", 'must be a list of ids like ["U0123ABCD"]')
    users = read.strings("mention_users")
    for user in users:
        if not (_MEMBER.fullmatch(user) or _GROUP.fullmatch(user)):
            shown = user if len(user) <= 24 else user[:21] + "…"
            raise read.error(
                "mention_users",
                f"{shown!r} is not a Slack member id (U…/W…) or user-group id (S…); find it "
                "in the member's profile → ⋮ → Copy member ID",
            )
    return users
