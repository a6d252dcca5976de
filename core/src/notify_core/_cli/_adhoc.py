"""``notify send --url … --option KEY=VALUE --setting KEY=VALUE``: an ad hoc channel's keys.

A URL alone cannot say everything a channel may need: PagerDuty's ``routing_key``, a
chat id on a bot token, a webhook's method. ``--option`` sets the provider's declared
channel keys (:attr:`~notify_core.plugin.ProviderSpec.channel_keys`, strings, as
secret as the provider says), ``--setting`` its settings table. Nothing given here is
ever echoed: an error names the key, never the value, since the value may be a
credential.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable
from typing import Any

from .._provider import ProviderSpec
from ._shared import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: What may be a TOML number or boolean; anything else stays the string it was.
_LOOKS_TYPED = re.compile(r"true|false|[+-]?[0-9][0-9_]*(\.[0-9_]+)?([eE][+-]?[0-9]+)?")


def _pair(value: str, option: str) -> tuple[str, str]:
    """``KEY=VALUE``, the value unseen in the error (it may be a secret)."""
    key, sep, rest = value.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"{option}: expected KEY=VALUE (the value is not shown: it may be secret)")
    return key.strip(), rest


def scalar(text: str) -> Any:
    """``true``/``false`` and numbers as TOML reads them; every other value as the string.

    ``--setting rich=false`` means the boolean, as ``rich = false`` does in a
    configuration file. What TOML would not read as a number (``007``, ``1.2.3``,
    ``inf``) stays the string it was, and so does everything else (no quotes needed).
    """
    if not _LOOKS_TYPED.fullmatch(text.strip()):
        return text
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return text
    return value


def adhoc_options(values: Iterable[str], spec: ProviderSpec) -> dict[str, str]:
    """``--option`` pairs as channel keys the provider declares; others are refused."""
    options: dict[str, str] = {}
    for value in values:
        key, raw = _pair(value, "--option")
        if key not in spec.channel_keys:
            known = ", ".join(spec.channel_keys) or "none"
            raise UsageError(
                f"--option {key!r}: {spec.name} channels have no such key (known: {known})"
            )
        options[key] = raw
    return options


def adhoc_settings(values: Iterable[str]) -> dict[str, Any]:
    """``--setting`` pairs as a settings table; ``auth.type=bearer`` makes a nested table.

    Which keys exist is the provider's to say: it refuses unknown ones when the channel
    is validated, listing those it knows.
    """
    settings: dict[str, Any] = {}
    for value in values:
        key, raw = _pair(value, "--setting")
        *path, last = key.split(".")
        table = settings
        for i, part in enumerate(path):
            inner = table.setdefault(part, {})
            if not isinstance(inner, dict):
                raise UsageError(
                    f"--setting {key!r}: {'.'.join(path[: i + 1])!r} is already set to a value"
                )
            table = inner
        if not last or any(not p for p in path) or isinstance(table.get(last), dict):
            raise UsageError(f"--setting {key!r}: not a usable key")
        table[last] = scalar(raw)
    return settings
