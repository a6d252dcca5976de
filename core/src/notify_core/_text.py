"""Helpers every provider needs to fit a message into its limits and its look.

They live in the core so that plugins do not each grow a slightly different
truncation rule: a trimmed part always ends with the same visible marker.
"""

from __future__ import annotations

import json
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


#: How a message's incident state reads after the fact, for providers that show it.
STATE_WORDS: dict[str, str] = {"acknowledge": "acknowledged", "resolve": "resolved"}


def state_word(state: str) -> str:
    """``"resolved"`` for a resolve, ``"acknowledged"`` for an acknowledge, ``""`` for a trigger."""
    return STATE_WORDS.get(state, "")


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


def _json_dumps(data: object) -> bytes:
    """Serialised exactly as :meth:`notify_core.Payload.content` sends a JSON body."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def json_len(text: str) -> int:
    """Bytes ``text`` takes inside a JSON body as the core sends it: escapes included, quotes not.

    JSON escapes make the encoded size larger than the UTF-8 size (a newline takes two
    bytes, a control character six), which matters when fitting a byte budget.
    """
    return len(_json_dumps(text)) - 2


def fit_json(text: str, room: int, marker: str = MARKER) -> str:
    """``text`` cut (ending with ``marker``) so that its JSON form takes at most ``room`` bytes.

    Searches the largest :func:`truncate_bytes` cut whose escaped form fits; ``""`` when
    not even the marker fits.
    """
    if json_len(text) <= room:
        return text
    lo, hi, best = 0, min(room, len(text.encode())), ""
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = truncate_bytes(text, mid, marker)
        if json_len(candidate) <= room:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best
