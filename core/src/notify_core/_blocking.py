"""The blocking API's engine: coroutines run on one private event loop in a daemon thread.

One loop for the notifier's life (instead of ``asyncio.run`` per call) keeps HTTP
connections alive between blocking sends, the way a training loop calls them, and
threads sharing a notifier share that one loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import weakref
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


class Bridge:
    """Runs the async API for blocking callers; refuses to run inside an event loop."""

    def __init__(self, owner: object) -> None:
        self._owner = weakref.ref(owner)
        self._lock = threading.Lock()
        self.thread: LoopThread | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            coro.close()
            raise RuntimeError(
                "Notifier.send/emit/retry cannot run inside an event loop; "
                "await asend/aemit/aretry instead"
            )
        with self._lock:  # threads sharing a notifier share its one loop
            if self.thread is None:
                self.thread = LoopThread()
                owner = self._owner()
                if owner is not None:
                    # a notifier dropped without close() still closes its connections, at
                    # the latest when the interpreter exits (no "unclosed session" noise)
                    weakref.finalize(owner, self.thread.shutdown)
            thread = self.thread
        return thread.run(coro)

    def owns(self, loop: asyncio.AbstractEventLoop) -> bool:
        return self.thread is not None and self.thread.loop is loop

    def on_close(self, closer: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if self.thread is not None:
            self.thread.closers.append(closer)

    def shutdown(self) -> None:
        if self.thread is not None:
            self.thread.shutdown()
            self.thread = None
