"""Rate limits shared through the store: one pace per destination for every process using it.

Per-process buckets let two workers each send at the full rate, and the provider answers
429. :class:`StoreLimiter` keeps GCRA state (:mod:`._limits_gcra`: one theoretical
arrival time per destination) in the store itself, updated atomically by one statement
just before the send: SQLite for the processes of one host, PostgreSQL for many hosts.

What it costs. Reservations made in one turn of the event loop for one destination
become one statement (``tat = max(tat, now) + n·T`` gives *n* consecutive slots), so a
burst of sends pays for one. On SQLite that statement joins the batch writer's shared
transaction (no commit of its own); on PostgreSQL it runs on its own, in autocommit, on
a thread of the limiter's: the destination's row is locked for that one statement, not
for a whole batch of other writes, so workers on other hosts do not queue behind this
one's commits. ``benchmarks/bench_workers.py`` measures both.

:func:`limiter_for` turns ``[notify].limiter`` into a limiter: ``"store"`` (this one, the
default), ``"local"`` (in-process token buckets) or a ``redis://`` URL
(:class:`~notify_core._limits_redis.RedisLimiter`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any, TypeVar

from ._channel import Rate
from ._clock import Clock
from ._limits import Limiter
from ._limits_gcra import GcraLimiter, interval_us
from ._store import Store
from ._writer import BatchWriter

T = TypeVar("T")
_Key = tuple[str, int, int]  # destination, interval in µs, burst


class StoreLimiter:
    """GCRA in the store: reservations queue across every process that shares it."""

    def __init__(self, store: Store, writer: BatchWriter) -> None:
        self.store = store
        self.writer = writer
        self._waiting: dict[_Key, list[asyncio.Future[float]]] = {}
        self._scheduled = False
        self._thread: concurrent.futures.ThreadPoolExecutor | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def reserve(self, destination: str, rate: Rate) -> float:
        """Reserve the next slot of ``destination``; seconds to wait before using it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[float] = loop.create_future()
        self._waiting.setdefault((destination, interval_us(rate), rate.burst), []).append(future)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        waiting, self._waiting = self._waiting, {}
        for key, futures in waiting.items():
            task = asyncio.ensure_future(self._reserve(key, futures))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _reserve(self, key: _Key, futures: list[asyncio.Future[float]]) -> None:
        destination, interval, burst = key
        try:
            delays = await self._run(
                self.store.reserve_slots, destination, interval, burst, len(futures)
            )
        except Exception as exc:
            for future in futures:
                if not future.done():
                    future.set_exception(exc)
            return
        for future, delay in zip(futures, delays, strict=True):
            if not future.done():  # a cancelled caller's slot goes unused: slower, never faster
                future.set_result(delay)

    async def unreserve(self, destination: str, rate: Rate) -> None:
        """Give back the latest slot (the attempt was cancelled before it went out)."""
        await self._run(self.store.unreserve_slot, destination, interval_us(rate))

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """A local store's call joins the shared transaction; a remote one's runs alone."""
        if not self.store.remote:
            return await self.writer.call(fn, *args)
        if self._thread is None:
            self._thread = concurrent.futures.ThreadPoolExecutor(1, "notify-limiter")
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def aclose(self) -> None:
        """Stop the limiter's thread (the store itself belongs to the notifier)."""
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None


def limiter_for(setting: str, store: Store, writer: BatchWriter, clock: Clock) -> Limiter:
    """The limiter ``[notify].limiter`` names (validated by the configuration already)."""
    if setting == "local":
        return GcraLimiter(clock)
    if setting == "store":
        return StoreLimiter(store, writer)
    from ._limits_redis import RedisLimiter

    return RedisLimiter(setting)
