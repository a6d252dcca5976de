"""Pacing: a provider's limit holds before the provider has to say 429.

A :class:`Limiter` hands out send slots per destination. Reservations queue: each
caller is told how long to wait for its own slot, so concurrent senders line up
instead of waking together and racing. :class:`LocalLimiter` keeps token buckets in
this process, the fast path when one process sends.
"""

from __future__ import annotations

from typing import Protocol

from ._channel import Rate
from ._clock import SYSTEM_CLOCK, Clock


class Limiter(Protocol):
    async def reserve(self, destination: str, rate: Rate) -> float:
        """Reserve the next slot for ``destination``; seconds to wait before using it."""
        ...

    async def unreserve(self, destination: str, rate: Rate) -> None:
        """Give back a slot reserved but not used (the attempt was cancelled)."""
        ...

    async def aclose(self) -> None: ...


class TokenBucket:
    """A classic token bucket; tokens are taken when reserved (it may go negative)."""

    __slots__ = ("_clock", "_last", "_tokens", "rate")

    def __init__(self, rate: Rate, clock: Clock = SYSTEM_CLOCK) -> None:
        self.rate = rate
        self._clock = clock
        self._tokens = float(rate.burst)
        self._last = clock.monotonic()

    def _refill(self) -> None:
        now = self._clock.monotonic()
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
        self._tokens = min(float(self.rate.burst), self._tokens + 1.0)


class LocalLimiter:
    """One token bucket per destination, in this process, made on first use."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def bucket(self, destination: str, rate: Rate) -> TokenBucket:
        bucket = self._buckets.get(destination)
        if bucket is None or bucket.rate != rate:
            bucket = self._buckets[destination] = TokenBucket(rate, self._clock)
        return bucket

    async def reserve(self, destination: str, rate: Rate) -> float:
        return self.bucket(destination, rate).reserve()

    async def unreserve(self, destination: str, rate: Rate) -> None:
        self.bucket(destination, rate).unreserve()

    async def aclose(self) -> None:
        self._buckets.clear()
