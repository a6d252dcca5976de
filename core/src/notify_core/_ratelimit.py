"""Per-destination token buckets, so provider limits hold before the provider says 429."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from ._channel import Rate


class TokenBucket:
    """A classic token bucket, fair to waiters in arrival order.

    Tokens are reserved at the moment of the call (the bucket may go negative), so
    concurrent callers line up behind each other instead of waking together and
    racing: waiter *k* sleeps exactly until its own token exists.
    """

    __slots__ = ("_clock", "_last", "_tokens", "rate")

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._tokens = float(rate.burst)
        self._last = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(
            float(self.rate.burst), self._tokens + (now - self._last) * self.rate.per_second
        )
        self._last = now

    def reserve(self) -> float:
        """Take a token now; return how long to wait before using it."""
        self._refill()
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.rate.per_second

    def unreserve(self) -> None:
        """Give back a token reserved but not used (the attempt was cancelled)."""
        self._tokens = min(float(self.rate.burst), self._tokens + 1.0)

    async def acquire(self) -> None:
        delay = self.reserve()
        if delay > 0:
            try:
                await asyncio.sleep(delay)
            except asyncio.CancelledError:
                self.unreserve()
                raise


class Buckets:
    """One bucket per destination, created on first use with that destination's rate."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def get(self, destination: str, rate: Rate) -> TokenBucket:
        bucket = self._buckets.get(destination)
        if bucket is None or bucket.rate != rate:
            bucket = self._buckets[destination] = TokenBucket(rate, self._clock)
        return bucket
