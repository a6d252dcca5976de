"""A clock that tests move by hand: policies about time, tested without waiting for it."""

from __future__ import annotations

import asyncio

from .._clock import Clock

#: Where a fake clock's wall time starts: 2026-01-02 03:04:05 UTC, a fixed, ordinary date.
START = 1_767_323_045.0


class FakeClock(Clock):
    """Wall and monotonic time that move only when told (``advance``) or slept through.

    ``await clock.sleep(s)`` advances the clock by ``s`` at once and yields to the event
    loop, so backoff, pacing and leases play out in microseconds. Pass it as
    ``Notifier(clock=…)`` (or to a store); each object that reads time reads this one.
    """

    def __init__(self, start: float = START) -> None:
        self.start = start
        self.offset = 0.0
        #: every duration slept through, in order (what a test may want to check)
        self.slept: list[float] = []

    def time(self) -> float:
        return self.start + self.offset

    def monotonic(self) -> float:
        return self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self.offset += seconds

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)
