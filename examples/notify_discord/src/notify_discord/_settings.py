"""The ``settings`` table of a Discord channel, checked once with one-line errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from notify_core.plugin import InvalidTarget, SettingsReader, Severity

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
    username = settings.get("username")
    if username is not None and (
        not isinstance(username, str) or not 1 <= len(username.strip()) <= USERNAME_CHARS
    ):
        raise InvalidTarget(
            f"discord settings.username must be 1 to {USERNAME_CHARS} characters",
            key="settings.username",
        )
    avatar = settings.get("avatar_url")
    if avatar is not None and (not isinstance(avatar, str) or not avatar.startswith("https://")):
        raise InvalidTarget(
            "discord settings.avatar_url must be an https:// URL", key="settings.avatar_url"
        )
    floor = read.severity("mention_min_severity", Severity.ERROR)
    return Settings(
        username=username.strip() if isinstance(username, str) else None,
        avatar_url=avatar,
        mention_users=_ids(settings.get("mention_users", []), "mention_users"),
        mention_roles=_ids(settings.get("mention_roles", []), "mention_roles"),
        mention_min_severity=floor,
    )


def _ids(value: Any, name: str) -> tuple[str, ...]:
    key = f"settings.{name}"
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise InvalidTarget(
            f'discord settings.{name} must be a list of ids like ["123456789012345678"]', key=key
        )
    if len(value) > MAX_MENTIONS:
        raise InvalidTarget(f"discord settings.{name}: at most {MAX_MENTIONS} ids", key=key)
    ids = [str(v).strip() for v in value]
    for ident in ids:
        if not _SNOWFLAKE.fullmatch(ident):
            shown = ident if len(ident) <= 30 else ident[:29] + "…"
            raise InvalidTarget(
                f"discord settings.{name}: {shown!r} is not an id (Developer Mode on, then "
                "right-click the user or role → Copy ID)",
                key=key,
            )
    return tuple(ids)
