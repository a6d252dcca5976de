"""Reading a channel's ``settings`` table the same way for every provider.

Every provider refuses unknown keys (a misspelt ``mention_on_failures`` silently doing
nothing is found only during an incident) and names the key at fault, so the error
reaches ``notify check`` as ``channels.<name>.settings.<key>: …``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._errors import InvalidTarget
from ._models import Severity


class SettingsReader:
    """Typed reads of one channel's settings; raises :class:`InvalidTarget` naming the key.

    Construction refuses keys outside ``known`` (listed in the given order).
    """

    def __init__(self, provider: str, settings: Mapping[str, Any], known: Iterable[str]) -> None:
        self.provider = provider
        self.settings = settings
        self.known = tuple(known)
        unknown = sorted(str(k) for k in settings if k not in self.known)
        if unknown:
            raise InvalidTarget(
                f"{provider} settings: unknown key {unknown[0]!r} (known: {', '.join(self.known)})",
                key=f"settings.{unknown[0]}",
            )

    def error(self, name: str, message: str) -> InvalidTarget:
        """``<provider> settings.<name> <message>``, pointing at that key."""
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
            raise InvalidTarget(
                f"{self.provider} settings.{name}: {exc}", key=f"settings.{name}"
            ) from None
