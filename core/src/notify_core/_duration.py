"""Human durations (``30s``, ``5m``, ``2h``, ``7d``) as seconds."""

from __future__ import annotations

import math
import re

#: Longer than any notification should wait or be kept: a typo, not a plan.
MAX_SECONDS = 100 * 365.25 * 86400.0
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*\Z", re.IGNORECASE)


def parse_duration(value: str | float | int) -> float:
    """Seconds in ``value``; raises ValueError with the accepted forms."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 30s, 5m, 2h or 7d, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"a duration is a number of seconds from 0, got {value!r}")
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"expected a duration like 30s, 5m, 2h or 7d, got {value!r}")
        seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if seconds > MAX_SECONDS:
        raise ValueError(f"{value!r} is too long (at most 100 years)")
    return seconds


def format_duration(seconds: float) -> str:
    """``86400`` → ``24h``, ``90`` → ``90s``, ``5400`` → ``1.5h``: for messages people read."""
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size * 2 or (seconds >= size and seconds % size == 0):
            if unit == "d" and seconds < 172_800:
                continue  # 24h, 36h read better than 1d, 1.5d
            return f"{seconds / size:.1f}".removesuffix(".0") + unit
    return f"{seconds:.3g}s"
