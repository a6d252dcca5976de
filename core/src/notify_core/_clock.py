"""The clock seam: every policy reads time and sleeps through one injected object.

Cooldowns, silences, leases, backoff and pacing are all decisions about time. Routing
them through a :class:`Clock` lets tests move time forward instead of sleeping through
it (``notify_core.testing.FakeClock``), and keeps the wall clock (stored timestamps,
what humans read) apart from the monotonic one (intervals, which must not jump).
"""

from __future__ import annotations

import time


class Clock:
    """The real clocks. Subclass to control time (the test kit's ``FakeClock`` does)."""

    def time(self) -> float:
        """Wall-clock seconds since the epoch: what is stored and shown."""
        return time.time()

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back: for measuring intervals."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time (a fake clock advances instead)."""
        import asyncio  # imported by the one who awaits: a queue-only send never does

        await asyncio.sleep(seconds)


#: The process's real clock; the default wherever a clock is optional.
SYSTEM_CLOCK = Clock()
