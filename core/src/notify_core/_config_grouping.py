"""Reading a channel's ``group`` and ``digest`` tables (the rest of the reader is ``_config``).

Each error names the key at fault, like every configuration error:
``notify.toml: channels.ops.group.wait: expected a duration like 30s, 5m, 2h or 7d, got 'soon'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

from ._digest import DigestPolicy, Resolved, parse_clock_time, parse_weekday, zone
from ._group_policy import GroupPolicy, check_by

if TYPE_CHECKING:
    from ._config import _Reader

GROUP_KEYS = frozenset({"by", "wait", "interval", "repeat", "resolved", "expire", "show"})
DIGEST_KEYS = frozenset({"every", "at", "timezone", "on", "by", "resolved", "show"})
#: The most items a summary's body may list (``show``): beyond that no chat stays readable.
MAX_SHOW = 50


def _by(reader: _Reader, table: Mapping[str, Any], path: str) -> tuple[str, ...]:
    names = reader.strings(table.get("by", []), f"{path}.by")
    for i, name in enumerate(names):
        try:
            check_by(name)
        except ValueError as exc:
            raise reader.error(f"{path}.by[{i}]", str(exc)) from None
    return tuple(dict.fromkeys(names))


def _resolved(reader: _Reader, table: Mapping[str, Any], path: str) -> Resolved:
    value = reader.string(table.get("resolved", "send"), f"{path}.resolved")
    if value not in ("send", "drop"):
        raise reader.error(f"{path}.resolved", f'expected "send" or "drop", got {value!r}')
    return cast("Resolved", value)


def _show(reader: _Reader, table: Mapping[str, Any], path: str) -> int:
    show = reader.integer(table.get("show", 10), f"{path}.show", minimum=1)
    if show > MAX_SHOW:
        raise reader.error(f"{path}.show", f"must be at most {MAX_SHOW}, got {show}")
    return show


def read_group(reader: _Reader, value: Any, path: str) -> GroupPolicy:
    table = reader.table(value, path)
    reader.unknown(table, GROUP_KEYS, path)
    kw: dict[str, Any] = {}
    for key in ("wait", "interval", "repeat", "expire"):
        if key in table:
            kw[key] = reader.duration(table[key], f"{path}.{key}")
    if kw.get("repeat") == 0:
        raise reader.error(f"{path}.repeat", "must be longer than 0 (leave it out: no repeats)")
    return GroupPolicy(
        by=_by(reader, table, path),
        resolved=_resolved(reader, table, path),
        show=_show(reader, table, path),
        **kw,
    )


def read_digest(reader: _Reader, value: Any, path: str) -> DigestPolicy:
    table = reader.table(value, path)
    reader.unknown(table, DIGEST_KEYS, path)
    if "every" not in table:
        raise reader.error(f"{path}.every", 'missing: "1d" (daily) or "7d" (weekly)')
    every = reader.duration(table["every"], f"{path}.every")
    if every not in (86_400.0, 604_800.0):
        raise reader.error(
            f"{path}.every", f'a digest goes out every "1d" or "7d", got {table["every"]!r}'
        )
    days: Literal[1, 7] = 1 if every == 86_400.0 else 7
    at = (9, 0)
    if "at" in table:
        try:
            at = parse_clock_time(reader.string(table["at"], f"{path}.at"))
        except ValueError as exc:
            raise reader.error(f"{path}.at", str(exc)) from None
    timezone = "UTC"
    if "timezone" in table:
        timezone = reader.string(table["timezone"], f"{path}.timezone")
        try:
            zone(timezone)
        except ValueError as exc:
            raise reader.error(f"{path}.timezone", str(exc)) from None
    weekday = None
    if "on" in table:
        if days != 7:
            raise reader.error(f"{path}.on", 'a weekday goes with every = "7d"')
        try:
            weekday = parse_weekday(reader.string(table["on"], f"{path}.on"))
        except ValueError as exc:
            raise reader.error(f"{path}.on", str(exc)) from None
    return DigestPolicy(
        days=days,
        at=at,
        timezone=timezone,
        weekday=weekday,
        by=_by(reader, table, path),
        resolved=_resolved(reader, table, path),
        show=_show(reader, table, path),
    )
