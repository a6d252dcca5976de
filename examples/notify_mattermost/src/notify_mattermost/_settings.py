"""The ``settings`` table of a Mattermost channel, checked once with one-line errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from notify_core.plugin import SettingsReader

Broadcast = Literal["channel", "here", "all"]
KNOWN = ("rich", "username", "icon_url", "channel", "mention_on_failure")


@attrs.frozen
class Settings:
    rich: bool = True
    username: str | None = None
    icon_url: str | None = None
    channel: str | None = None
    mention_on_failure: Broadcast | None = None


def parse(settings: Mapping[str, Any]) -> Settings:
    read = SettingsReader("mattermost", settings, KNOWN)
    icon = read.text("icon_url")
    if icon is not None and not icon.startswith(("https://", "http://")):
        raise read.error("icon_url", "must be an http(s) URL")
    return Settings(
        rich=read.flag("rich", True),
        username=read.text("username"),
        icon_url=icon,
        channel=read.text("channel"),
        mention_on_failure=_broadcast(read),
    )


def _broadcast(read: SettingsReader) -> Broadcast | None:
    value = read.get("mention_on_failure", False)
    if value is True or value == "channel":
        return "channel"
    if value in ("here", "all"):
        return "here" if value == "here" else "all"
    if value is False or value is None:
        return None
    raise read.error("mention_on_failure", 'must be true, false, "channel", "here" or "all"')
