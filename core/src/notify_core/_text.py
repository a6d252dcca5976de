"""Helpers every provider needs to fit a message into its limits and its look.

They live in the core so that plugins do not each grow a slightly different
truncation rule: a trimmed part always ends with the same visible marker.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from ._models import Severity

T = TypeVar("T")

#: What a trimmed text ends with, so a reader knows something was cut.
MARKER = "…"

#: One colour per severity, as hex (Slack attachments, Discord embeds, cards).
SEVERITY_COLORS: dict[Severity, str] = {
    Severity.INFO: "#2EB67D",
    Severity.WARNING: "#ECB22E",
    Severity.ERROR: "#E01E5A",
    Severity.CRITICAL: "#8B0000",
}


def truncate(text: str, limit: int, marker: str = MARKER) -> str:
    """``text`` cut to at most ``limit`` characters, ending with ``marker`` if cut."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit <= len(marker):
        return marker[:limit]
    return text[: limit - len(marker)].rstrip() + marker


def truncate_bytes(text: str, limit: int, marker: str = MARKER, encoding: str = "utf-8") -> str:
    """``text`` cut to at most ``limit`` encoded bytes, on a character boundary."""
    data = text.encode(encoding)
    if len(data) <= limit:
        return text
    room = limit - len(marker.encode(encoding))
    if room <= 0:
        return ""
    cut = data[:room].decode(encoding, errors="ignore")
    return cut + marker


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items (fields per section, and so on)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def cap(items: Sequence[T], limit: int) -> tuple[list[T], int]:
    """The first ``limit`` items and how many were dropped (for an "and N more" note)."""
    kept = list(items[:limit])
    return kept, max(0, len(items) - limit)


def severity_color(severity: Severity) -> str:
    """The hex colour of a severity."""
    return SEVERITY_COLORS[severity]
