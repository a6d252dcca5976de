"""A channel's ``group = {…}`` setting as a record: what a channel carries, a config checks.

Apart from :mod:`._grouping` (which holds a group's life in the store) so that a
:class:`~notify_core.Channel` and the configuration never import the store to know it.
"""

from __future__ import annotations

import attrs

from ._digest import DigestPolicy, Resolved

#: What ``by`` may name: these, or ``fields.NAME`` and ``data.KEY`` (``data.a.b`` nests).
BY_NAMES = ("event", "tenant", "severity", "title", "dedup_key")
BY_PREFIXES = ("fields.", "data.")


@attrs.frozen(kw_only=True)
class GroupPolicy:
    """``group = { by = [...], wait = "30s", interval = "5m", repeat = "4h" }`` on a channel.

    ``expire`` (default 1 h, or 1 d when ``repeat`` is set) is how long an item is
    remembered after its latest message: a repeat inside it is not news, and a live
    item is listed again in later summaries and repeats until it resolves or expires.
    """

    by: tuple[str, ...] = ()
    wait: float = 30.0
    interval: float = 300.0
    repeat: float | None = None
    resolved: Resolved = "send"
    expire: float | None = None
    show: int = 10

    @property
    def forget(self) -> float:
        if self.expire is not None:
            return self.expire
        return 86_400.0 if self.repeat is not None else 3_600.0


Policy = GroupPolicy | DigestPolicy


def check_by(name: str) -> str:
    """``name`` when a group can be split by it; ``ValueError`` naming what can."""
    if name in BY_NAMES or any(name.startswith(p) and len(name) > len(p) for p in BY_PREFIXES):
        return name
    raise ValueError(
        f"cannot group by {name!r}: use {', '.join(BY_NAMES)}, fields.NAME or data.KEY"
    )
