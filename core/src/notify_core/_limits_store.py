"""Rate limits shared through the store: one pace per destination for every process using it.

Per-process buckets let two workers each send at the full rate, and the provider answers
429. :class:`StoreLimiter` keeps GCRA state (:mod:`._limits_gcra`: one theoretical
arrival time per destination) in the store itself, updated atomically by one statement
just before the send: SQLite for the processes of one host, PostgreSQL for many hosts.

Reservations go through the :class:`~notify_core._writer.BatchWriter`, so under load
they share the transaction (and the commit) of the writes around them: the price of a
shared pace on SQLite is one small statement per send (``benchmarks/bench_workers.py``
measures it).

:func:`limiter_for` turns ``[notify].limiter`` into a limiter: ``"store"`` (this one, the
default), ``"local"`` (in-process token buckets) or a ``redis://`` URL
(:class:`~notify_core._limits_redis.RedisLimiter`).
"""

from __future__ import annotations

from ._channel import Rate
from ._clock import Clock
from ._limits import Limiter, LocalLimiter
from ._limits_gcra import interval_us
from ._store import Store
from ._writer import BatchWriter


class StoreLimiter:
    """GCRA in the store: reservations queue across every process that shares it."""

    def __init__(self, store: Store, writer: BatchWriter) -> None:
        self.store = store
        self.writer = writer

    async def reserve(self, destination: str, rate: Rate) -> float:
        """Reserve the next slot of ``destination``; seconds to wait before using it."""
        store = self.store
        return await self.writer.call(
            store.reserve_slot, destination, interval_us(rate), rate.burst
        )

    async def unreserve(self, destination: str, rate: Rate) -> None:
        """Give back the latest slot (the attempt was cancelled before it went out)."""
        await self.writer.call(self.store.unreserve_slot, destination, interval_us(rate))

    async def aclose(self) -> None:
        """Nothing of its own to close: the store belongs to the notifier."""


def limiter_for(setting: str, store: Store, writer: BatchWriter, clock: Clock) -> Limiter:
    """The limiter ``[notify].limiter`` names (validated by the configuration already)."""
    if setting == "local":
        return LocalLimiter(clock)
    if setting == "store":
        return StoreLimiter(store, writer)
    from ._limits_redis import RedisLimiter

    return RedisLimiter(setting)
