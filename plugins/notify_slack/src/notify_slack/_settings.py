"""The ``settings`` table of a Slack channel, read once and checked strictly.

Unknown keys are errors rather than ignored: ``mention_on_failures = true`` (one letter
off) silently doing nothing is exactly the kind of mistake found only during an
incident. Errors are :class:`InvalidTarget` so that they surface when the channel is
validated (``notify check``, the first send), naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from notify_core.plugin import SettingsReader

Broadcast = Literal["channel", "here"]

KNOWN = ("rich", "mention_on_failure", "mention_users")
#: Member ids (``U…``, ``W…`` for Enterprise Grid) and user-group ids (``S…``).
_MEMBER = re.compile(r"[UW][A-Z0-9]{2,20}")
_GROUP = re.compile(r"S[A-Z0-9]{2,20}")


@attrs.frozen
class Settings:
    """What a Slack channel's settings mean for the payload."""

    rich: bool = True
    mention_on_failure: Broadcast | None = None
    mention_users: tuple[str, ...] = ()

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
    )


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
