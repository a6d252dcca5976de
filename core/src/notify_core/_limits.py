"""Pacing: a provider's limit holds before the provider has to say 429.

A :class:`Limiter` hands out send slots per destination. Reservations queue: each
caller is told how long to wait for its own slot, so concurrent senders line up
instead of waking together and racing. The implementations share one algorithm (GCRA,
:mod:`._limits_gcra`) and differ in where its one number per destination lives: this
process (:class:`~._limits_gcra.GcraLimiter`, the fast path for one process), or
Redis (:mod:`._limits_redis`) for processes on many hosts.
"""

from __future__ import annotations

from typing import Protocol

from ._channel import Rate


class Limiter(Protocol):
    async def reserve(self, destination: str, rate: Rate) -> float:
        """Reserve the next slot for ``destination``; seconds to wait before using it."""
        ...

    async def unreserve(self, destination: str, rate: Rate) -> None:
        """Give back a slot reserved but not used (the attempt was cancelled)."""
        ...

    async def aclose(self) -> None: ...
