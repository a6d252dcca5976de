"""The ``settings`` table of a teams channel, checked once with clear messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from notify_core.plugin import SettingsReader, Severity

MAX_MENTIONS = 20
MENTION_NAME_CHARS = 100
MENTION_ID_CHARS = 200
KNOWN = ("full_width", "mention_min_severity", "mentions")


@attrs.frozen
class Mention:
    """Someone to @mention: ``name`` is shown, ``id`` (UPN e-mail or Entra object id) resolves."""

    name: str
    id: str


@attrs.frozen(kw_only=True)
class TeamsSettings:
    mentions: tuple[Mention, ...] = ()
    mention_min_severity: Severity = Severity.ERROR
    full_width: bool = True


def parse_settings(settings: Mapping[str, Any]) -> TeamsSettings:
    """Typed settings, or :class:`InvalidTarget` naming the offending key.

    Unknown keys are refused: a misspelt ``mention`` silently doing nothing is worse
    than a configuration error at start-up.
    """
    read = SettingsReader("teams", settings, KNOWN)
    full_width = read.flag("full_width", True)
    floor = read.severity("mention_min_severity", Severity.ERROR)
    return TeamsSettings(
        mentions=_mentions(read), mention_min_severity=floor, full_width=full_width
    )


def _mentions(read: SettingsReader) -> tuple[Mention, ...]:
    value = read.get("mentions", ())
    if not isinstance(value, list | tuple):
        raise read.error("mentions", 'must be a list of {name = "…", id = "…"}')
    if len(value) > MAX_MENTIONS:
        raise read.error("mentions", f"must name at most {MAX_MENTIONS} people")
    found = []
    for i, item in enumerate(value):
        where = f"mentions[{i}]"
        if not isinstance(item, Mapping):
            raise read.error(where, 'must be a table {name = "…", id = "…"}')
        extra = sorted(set(item) - {"name", "id"})
        if extra:
            raise read.error(where, f"has an unknown key {extra[0]!r} (expected name and id)")
        name, ident = item.get("name"), item.get("id")
        if not isinstance(name, str) or not name.strip():
            raise read.error(f"{where}.name", "must be a non-empty string (the shown name)")
        if not isinstance(ident, str) or not ident.strip():
            raise read.error(
                f"{where}.id", "must be a non-empty string (a UPN e-mail or Entra object id)"
            )
        if "<" in name or ">" in name:
            raise read.error(f"{where}.name", "must not contain < or > (it goes inside <at>…</at>)")
        if len(name) > MENTION_NAME_CHARS:
            raise read.error(f"{where}.name", f"must be at most {MENTION_NAME_CHARS} characters")
        if len(ident) > MENTION_ID_CHARS:
            raise read.error(f"{where}.id", f"must be at most {MENTION_ID_CHARS} characters")
        found.append(Mention(name.strip(), ident.strip()))
    return tuple(found)
