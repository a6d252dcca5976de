"""Backoff and ``Retry-After``: when the next attempt may start."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ._channel import RetryPolicy

if TYPE_CHECKING:
    import random


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date).

    Returns None when the header is absent or unreadable: a garbled header must not
    turn a retryable answer into a crash, the backoff schedule applies instead.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN guard
    try:
        from email.utils import parsedate_to_datetime  # rare (HTTP-date), and ~3 ms

        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def next_delay(
    policy: RetryPolicy,
    attempts_made: int,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Delay before the next attempt after ``attempts_made`` tries (full jitter).

    A provider's ``Retry-After`` wins over the computed backoff, uncapped: sending
    earlier than asked would only earn another 429. What bounds a long one is the
    policy's ``deadline``, which the dispatcher checks.
    """
    if retry_after is not None:
        return retry_after
    ceiling = min(policy.max_delay, policy.backoff * (2 ** max(0, attempts_made - 1)))
    import random  # the first retry imports it: a send that only queues never does

    return (rng or random).uniform(0, ceiling)
