"""The ``settings`` table of a teams channel, checked once with clear messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from notify_core.plugin import InvalidTarget, SettingsReader, Severity

MAX_MENTIONS = 20
MENTION_NAME_CHARS = 100
MENTION_ID_CHARS = 200
KNOWN = frozenset({"mentions", "mention_min_severity", "full_width"})
#: The channel key every mention error points at.
MENTIONS_KEY = "settings.mentions"


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
    read = SettingsReader("teams", settings, sorted(KNOWN))
    full_width = read.flag("full_width", True)
    floor = read.severity("mention_min_severity", Severity.ERROR)
    return TeamsSettings(
        mentions=_mentions(settings.get("mentions", ())),
        mention_min_severity=floor,
        full_width=full_width,
    )


def _mentions(value: Any) -> tuple[Mention, ...]:
    if not isinstance(value, list | tuple):
        raise InvalidTarget(
            'teams settings.mentions must be a list of {name = "…", id = "…"}', key=MENTIONS_KEY
        )
    if len(value) > MAX_MENTIONS:
        raise InvalidTarget(
            f"teams settings.mentions: at most {MAX_MENTIONS} people", key=MENTIONS_KEY
        )
    found = []
    for i, item in enumerate(value):
        where = f"teams settings.mentions[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidTarget(
                f'{where} must be a table {{name = "…", id = "…"}}', key=MENTIONS_KEY
            )
        name, ident = item.get("name"), item.get("id")
        if not isinstance(name, str) or not name.strip():
            raise InvalidTarget(
                f"{where}.name must be a non-empty string (the shown name)", key=MENTIONS_KEY
            )
        if not isinstance(ident, str) or not ident.strip():
            raise InvalidTarget(
                f"{where}.id must be a non-empty string (a UPN e-mail or Entra object id)",
                key=MENTIONS_KEY,
            )
        if "<" in name or ">" in name:
            raise InvalidTarget(
                f"{where}.name must not contain < or > (it goes inside <at>…</at>)",
                key=MENTIONS_KEY,
            )
        if len(name) > MENTION_NAME_CHARS or len(ident) > MENTION_ID_CHARS:
            raise InvalidTarget(
                f"{where}: name at most {MENTION_NAME_CHARS} and id at most "
                f"{MENTION_ID_CHARS} characters",
                key=MENTIONS_KEY,
            )
        extra = sorted(set(item) - {"name", "id"})
        if extra:
            raise InvalidTarget(
                f"{where}: unknown key {extra[0]!r} (expected name and id)", key=MENTIONS_KEY
            )
        found.append(Mention(name.strip(), ident.strip()))
    return tuple(found)
