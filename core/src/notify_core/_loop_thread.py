"""The blocking API's event loop: one loop, forever, in a daemon thread (see ``_blocking``).

Its own module so that the bridge, made with every notifier, imports asyncio only
when it first starts a loop: a notifier that only queues (``send(wait=0)``) never does.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """An event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="notify", daemon=True)
        self.thread.start()
        #: async cleanups (the runtime's HTTP clients) run on this loop before it stops
        self.closers: list[Callable[[], Coroutine[Any, Any, None]]] = []

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            # Ctrl-C while waiting: cancel, so in-flight deliveries hand their leases back
            future.cancel()
            concurrent.futures.wait([future], timeout=5)
            raise

    def shutdown(self) -> None:
        """Close what runs on the loop, then the loop; safe to call twice (and at exit)."""
        if self.loop.is_closed():
            return
        closers, self.closers = self.closers, []
        for close in closers:
            future = asyncio.run_coroutine_threadsafe(close(), self.loop)
            concurrent.futures.wait([future], timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()
