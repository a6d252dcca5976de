"""The ``settings`` table of a Discord channel, checked once with one-line errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from notify_core.plugin import SettingsReader, Severity

KNOWN = ("username", "avatar_url", "mention_users", "mention_roles", "mention_min_severity")
USERNAME_CHARS = 80
MAX_MENTIONS = 20
_SNOWFLAKE = re.compile(r"\d{15,25}")


@attrs.frozen
class Settings:
    username: str | None = None
    avatar_url: str | None = None
    mention_users: tuple[str, ...] = ()
    mention_roles: tuple[str, ...] = ()
    mention_min_severity: Severity = Severity.ERROR


def parse(settings: Mapping[str, Any]) -> Settings:
    read = SettingsReader("discord", settings, KNOWN)
    username = read.text("username")
    if username is not None and len(username) > USERNAME_CHARS:
        raise read.error("username", f"must be 1 to {USERNAME_CHARS} characters")
    avatar = read.text("avatar_url")
    if avatar is not None and not avatar.startswith("https://"):
        raise read.error("avatar_url", "must be an https:// URL")
    return Settings(
        username=username,
        avatar_url=avatar,
        mention_users=_ids(read, "mention_users"),
        mention_roles=_ids(read, "mention_roles"),
        mention_min_severity=read.severity("mention_min_severity", Severity.ERROR),
    )


def _ids(read: SettingsReader, name: str) -> tuple[str, ...]:
    """Snowflake ids, as strings or as TOML integers (both are how people write them)."""
    value = read.get(name, [])
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise read.error(name, 'must be a list of ids like ["123456789012345678"]')
    if len(value) > MAX_MENTIONS:
        raise read.error(name, f"must hold at most {MAX_MENTIONS} ids")
    ids = [str(v).strip() for v in value]
    for ident in ids:
        if not _SNOWFLAKE.fullmatch(ident):
            shown = ident if len(ident) <= 30 else ident[:29] + "…"
            raise read.error(
                name,
                f"holds {shown!r}, which is not an id (Developer Mode on, then right-click "
                "the user or role → Copy ID)",
            )
    return tuple(ids)
