"""The blocking API's engine: coroutines run on one private event loop in a daemon thread.

One loop for the notifier's life (instead of ``asyncio.run`` per call) keeps HTTP
connections alive between blocking sends, the way a training loop calls them, and
threads sharing a notifier share that one loop.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

    from ._loop_thread import LoopThread

T = TypeVar("T")


class Bridge:
    """Runs the async API for blocking callers; refuses to run inside an event loop."""

    def __init__(self, owner: object) -> None:
        self._owner = weakref.ref(owner)
        self._lock = threading.Lock()
        self.thread: LoopThread | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            _refuse_in_loop()
        except RuntimeError:
            coro.close()
            raise
        with self._lock:  # threads sharing a notifier share its one loop
            if self.thread is None:
                from ._loop_thread import LoopThread

                self.thread = LoopThread()
                owner = self._owner()
                if owner is not None:
                    # a notifier dropped without close() still closes its connections, at
                    # the latest when the interpreter exits (no "unclosed session" noise)
                    weakref.finalize(owner, self.thread.shutdown)
            thread = self.thread
        return thread.run(coro)

    def inline(self, fn: Callable[[], T]) -> T | None:
        """``fn()`` on the calling thread while the loop has not started, else None.

        The lock is held throughout, so the loop cannot start (and write to the store
        from its thread) while ``fn`` writes from this one. Refused inside an event
        loop, as :meth:`run` refuses.
        """
        _refuse_in_loop()
        with self._lock:
            if self.thread is not None:
                return None
            return fn()

    def owns(self, loop: asyncio.AbstractEventLoop) -> bool:
        return self.thread is not None and self.thread.loop is loop

    def on_close(self, closer: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if self.thread is not None:
            self.thread.closers.append(closer)

    def shutdown(self) -> None:
        if self.thread is not None:
            self.thread.shutdown()
            self.thread = None


def _refuse_in_loop() -> None:
    """The blocking API blocks: inside a running event loop it would stall that loop."""
    asyncio = sys.modules.get("asyncio")  # not imported: no loop can be running
    if asyncio is None:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        "Notifier.send/emit/retry cannot run inside an event loop; await asend/aemit/aretry instead"
    )
