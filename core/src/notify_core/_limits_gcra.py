"""GCRA with reservation: the pacing math every shared limiter uses, and an in-process limiter.

The state of a destination is one number, its *theoretical arrival time* (TAT): when the
destination will next be as idle as an untouched one. That is what makes GCRA the right
algorithm to share between processes: one integer per destination, updated in one atomic
step (a Lua script in Redis, an UPDATE in a database), with no background refill.

With emission interval ``T = 1 / per_second`` and ``burst`` = *b*:

* ``tat = max(stored_tat, now)`` (an absent or past TAT is an idle destination);
* ``allow_at = tat - T·(b - 1)``: an idle destination lets *b* sends go at once, then one
  every ``T``;
* reserving returns ``delay = max(0, allow_at - now)`` and stores ``tat + T``; it never
  refuses, so concurrent callers queue up behind each other, each told the wait for its
  own slot;
* giving a slot back stores ``max(tat - T, now)``: it frees the latest slot and cannot
  bank credit beyond an idle destination's burst.

This is exactly a token bucket (tokens = ``b - (tat - now)/T``, capped at *b* ⇔
``tat ≥ now``) kept as one number; the tests check the two agree step by step.

Times are integer microseconds, so that the Python here and the Lua script in
:mod:`._limits_redis` compute the same numbers bit for bit (no float rounding order to
agree on). ``T`` is rounded *up* to a whole microsecond: never faster than the rate.

The limiter protocol (``reserve``/``unreserve``/``aclose``) is documented in
:mod:`._limits_redis`.
"""

from __future__ import annotations

import math

from ._channel import Rate
from ._clock import SYSTEM_CLOCK, Clock

US = 1_000_000


def interval_us(rate: Rate) -> int:
    """The emission interval ``T`` in whole microseconds, rounded up (at least 1).

    Rates above a million per second are therefore paced at a million per second: far
    beyond any provider, and a limiter is not the place for "unlimited".
    """
    return max(1, math.ceil(US / rate.per_second))


def gcra_reserve(stored: int | None, now: int, interval: int, burst: int) -> tuple[int, int]:
    """One reservation: ``(new_tat, delay)`` from the stored TAT (``None``: no state)."""
    tat = now if stored is None or stored < now else stored
    delay = tat - interval * (burst - 1) - now
    return tat + interval, max(0, delay)


def gcra_delays(new_tat: int, now: int, interval: int, burst: int, count: int = 1) -> list[int]:
    """The waits of ``count`` consecutive reservations, from the TAT they stored.

    A database reserves in one atomic statement, ``tat = max(stored, now) + count·T``,
    and returns the new TAT. Reservation *i* (from 0) is :func:`gcra_reserve` applied
    *i* times after the stored TAT: its delay is ``max(stored, now) + i·T - T·(b - 1) -
    now``, that is ``new_tat - (count - i)·T - T·(b - 1) - now``. The tests check this
    agrees with ``count`` calls of :func:`gcra_reserve`.
    """
    base = new_tat - count * interval  # max(stored, now)
    return [max(0, base + i * interval - interval * (burst - 1) - now) for i in range(count)]


def gcra_unreserve(stored: int | None, now: int, interval: int) -> int | None:
    """Give the latest slot back: the new TAT, or ``None`` when the destination is idle."""
    tat = now if stored is None or stored < now else stored
    new_tat = tat - interval
    return new_tat if new_tat > now else None


class GcraLimiter:
    """The GCRA limiter in one process: for one worker, and for testing the math.

    ``clock`` is the injected clock (its monotonic time, read at microsecond resolution),
    so that tests need no sleeping. Destinations idle for longer than their queue are
    forgotten from time to time, so memory follows the active destinations only.
    """

    #: Forget idle destinations every this many reservations.
    SWEEP_EVERY = 4096

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self._clock = clock.monotonic
        self._tats: dict[str, int] = {}
        self._since_sweep = 0

    def _now(self) -> int:
        return round(self._clock() * US)

    def reserve_now(self, destination: str, rate: Rate) -> float:
        """:meth:`reserve` without the coroutine: seconds to wait before sending."""
        now = self._now()
        new_tat, delay = gcra_reserve(
            self._tats.get(destination), now, interval_us(rate), rate.burst
        )
        self._tats[destination] = new_tat
        self._since_sweep += 1
        if self._since_sweep >= self.SWEEP_EVERY:
            self._sweep(now)
        return delay / US

    def unreserve_now(self, destination: str, rate: Rate) -> None:
        """:meth:`unreserve` without the coroutine."""
        new_tat = gcra_unreserve(self._tats.get(destination), self._now(), interval_us(rate))
        if new_tat is None:
            self._tats.pop(destination, None)
        else:
            self._tats[destination] = new_tat

    def _sweep(self, now: int) -> None:
        self._since_sweep = 0
        self._tats = {d: tat for d, tat in self._tats.items() if tat > now}

    def __len__(self) -> int:
        """How many destinations are remembered (idle ones may linger until a sweep)."""
        return len(self._tats)

    async def reserve(self, destination: str, rate: Rate) -> float:
        """Reserve the next send slot for ``destination``; seconds to wait (0.0 = now)."""
        return self.reserve_now(destination, rate)

    async def unreserve(self, destination: str, rate: Rate) -> None:
        """Give back a slot reserved but not used (the attempt was cancelled)."""
        self.unreserve_now(destination, rate)

    async def aclose(self) -> None:
        """Nothing to release; here for the protocol."""
