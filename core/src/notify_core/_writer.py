"""Group the store writes of concurrent deliveries into shared transactions.

A commit is the expensive part of a write (DESIGN §7: ~45,000 WAL commits/s, and each
delivery needs three: accepted, attempted, channel health). Calls made in the same
turn of the event loop are run in one transaction at the start of the next turn, so
fifty deliveries finishing together cost one commit, not a hundred and fifty. The
caller still awaits its own commit: nothing is reported done before it is durable.

A remote store's batch runs on a thread of its own, so the event loop keeps sending
while the database answers; a local one runs inline (a thread hop costs more than a
SQLite commit).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any, TypeVar

from ._store import Store

T = TypeVar("T")
_Call = tuple[Callable[[], Any], "asyncio.Future[Any]"]


class BatchWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: list[_Call] = []
        self._scheduled = False
        self._thread: concurrent.futures.ThreadPoolExecutor | None = None

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` (a store call) in the next shared transaction."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append((lambda: fn(*args, **kwargs), future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        queue, self._queue = self._queue, []
        if not self.store.remote:
            self._settle(self._run(queue))
            return
        if self._thread is None:
            self._thread = concurrent.futures.ThreadPoolExecutor(1, "notify-store")
        loop = asyncio.get_running_loop()
        done = loop.run_in_executor(self._thread, self._run, queue)
        done.add_done_callback(lambda f: self._settle(f.result()))

    def _run(
        self, queue: list[_Call]
    ) -> list[tuple[asyncio.Future[Any], Any, BaseException | None]]:
        if len(queue) == 1:  # alone, a call needs no savepoint to fail on its own
            fn, future = queue[0]
            try:
                with self.store.transaction(isolated=False):
                    value = fn()
            except Exception as exc:
                return [(future, None, exc)]
            return [(future, value, None)]
        results: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            with self.store.transaction():
                for fn, future in queue:
                    try:
                        results.append((future, fn(), None))
                    except Exception as exc:  # that call is rolled back to its savepoint
                        results.append((future, None, exc))
        except Exception as exc:  # the commit itself failed: every call failed
            results = [(future, None, exc) for _, future in queue]
        return results

    @staticmethod
    def _settle(results: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
        for future, value, error in results:
            if future.cancelled():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
