"""Reading a channel's ``settings`` table the same way for every provider.

Every provider refuses unknown keys (a misspelt ``mention_on_failures`` silently doing
nothing is found only during an incident) and names the key at fault, so the error
reaches ``notify check`` as ``channels.<name>.settings.<key>: …``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from ._errors import InvalidTarget
from ._models import Severity


class SettingsReader:
    """Typed reads of one channel's settings; raises :class:`InvalidTarget` naming the key.

    Construction refuses keys outside ``known`` (listed in the given order), suggesting
    the closest known key for a misspelt one.
    """

    def __init__(self, provider: str, settings: Mapping[str, Any], known: Iterable[str]) -> None:
        self.provider = provider
        self.settings = settings
        self.known = tuple(known)
        unknown = sorted(str(k) for k in settings if k not in self.known)
        if unknown and not self.known:
            raise InvalidTarget(
                f"{provider} takes no settings (found {unknown[0]!r})", key=f"settings.{unknown[0]}"
            )
        if unknown:
            close = difflib.get_close_matches(unknown[0], self.known, n=1)
            hint = f": did you mean {close[0]!r}?" if close else ""
            raise InvalidTarget(
                f"{provider} settings: unknown key {unknown[0]!r}{hint} "
                f"(known: {', '.join(self.known)})",
                key=f"settings.{unknown[0]}",
            )

    def error(self, name: str, message: str) -> InvalidTarget:
        """``<provider> settings.<name> <message>``, pointing at that key.

        The one way to report a bad setting, nested ones too (``error("auth.type", …)``).
        """
        return InvalidTarget(f"{self.provider} settings.{name} {message}", key=f"settings.{name}")

    def get(self, name: str, default: Any = None) -> Any:
        return self.settings.get(name, default)

    def flag(self, name: str, default: bool) -> bool:
        value = self.settings.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, "must be true or false")
        return value

    def text(self, name: str) -> str | None:
        """A non-empty string (stripped), or None when the key is absent."""
        value = self.settings.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, "must be a non-empty string")
        return value.strip()

    def severity(self, name: str, default: Severity) -> Severity:
        try:
            return Severity.parse(self.settings.get(name, default))
        except ValueError as exc:
            raise self.error(name, f"must be a severity: {exc}") from None

    def integer(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        """A whole number within ``[minimum, maximum]``."""
        value = self.settings.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, "must be a whole number")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            low = "" if minimum is None else f"at least {minimum}"
            high = "" if maximum is None else f"at most {maximum}"
            raise self.error(name, f"must be {' and '.join(p for p in (low, high) if p)}")
        return value

    def strings(self, name: str, default: Iterable[str] = ()) -> tuple[str, ...]:
        """A list of non-empty strings (stripped); a lone string is refused, not split."""
        value = self.settings.get(name, list(default))
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise self.error(name, "must be a list of strings")
        items = []
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise self.error(name, "must be a list of non-empty strings")
            items.append(item.strip())
        return tuple(items)

    def choice(self, name: str, choices: Iterable[str], default: str | None = None) -> str | None:
        """One of ``choices`` (compared as written), or ``default`` when absent."""
        options = tuple(choices)
        value = self.settings.get(name, default)
        if value is None:
            return None
        if value not in options:
            shown = str(value) if len(str(value)) <= 40 else str(value)[:39] + "…"
            raise self.error(name, f"must be one of {', '.join(options)}, not {shown!r}")
        return str(value)

    def table(self, name: str) -> Mapping[str, Any]:
        """A nested table (``settings.auth``), empty when absent."""
        value = self.settings.get(name, {})
        if not isinstance(value, Mapping):
            raise self.error(name, "must be a table")
        return value
