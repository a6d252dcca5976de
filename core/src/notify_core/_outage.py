"""Riding out a database outage: store calls retried with backoff, and said once.

A PostgreSQL restart, a failover or a network cut makes every store call fail for a few
seconds. A worker must neither die nor lose work then: what it claimed stays leased,
what it sent is recorded once the database answers again, and the operator reads one
line when the trouble starts and one when it ends, not a line per delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ._clock import Clock
from ._errors import LimiterUnavailable, StoreError
from ._store import TRANSIENT_ERRORS

log = logging.getLogger("notify")

T = TypeVar("T")

#: Store and shared-limiter failures that are worth waiting out where they happen.
RETRYABLE: tuple[type[Exception], ...] = (*TRANSIENT_ERRORS, LimiterUnavailable)
#: What the worker's loop survives (backing off, then claiming again): any store error.
SURVIVABLE: tuple[type[Exception], ...] = (StoreError, *RETRYABLE)


class Outage:
    """Backoff delays, and the one log line per outage, shared by a worker's every call."""

    def __init__(self, clock: Clock, *, first: float = 0.05, longest: float = 5.0) -> None:
        self.clock = clock
        self.first = first
        self.longest = longest
        self.since: float | None = None
        self._delay = first

    def failed(self, exc: BaseException) -> float:
        """Note a failure; return how long to wait before trying again."""
        if self.since is None:
            self.since = self.clock.monotonic()
            log.warning("%s; retrying with backoff, nothing is lost meanwhile", exc)
        delay, self._delay = self._delay, min(self._delay * 2, self.longest)
        return delay

    def recovered(self) -> None:
        """Note a success: the end of an outage, if there was one."""
        if self.since is not None:
            took = self.clock.monotonic() - self.since
            log.warning("the store answers again (after %.1fs); carrying on", took)
            self.since = None
        self._delay = self.first

    async def retrying(self, call: Callable[[], Awaitable[T]], *, budget: float) -> T:
        """``await call()``, again and again while it fails transiently, for ``budget`` seconds.

        The last failure is raised once the next wait would overrun the budget.
        """
        give_up = self.clock.monotonic() + budget
        while True:
            try:
                result = await call()
            except RETRYABLE as exc:
                delay = self.failed(exc)
                if self.clock.monotonic() + delay > give_up:
                    raise
                await self.clock.sleep(delay)
            else:
                if self.since is not None:
                    self.recovered()
                return result
