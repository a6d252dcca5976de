"""The in-process limiter paces requests before the provider has to say 429."""

from __future__ import annotations

import pytest

from notify_core import Rate
from notify_core._limits_gcra import GcraLimiter
from notify_core.testing import FakeClock


def test_burst_then_paced():
    limiter = GcraLimiter(FakeClock())
    rate = Rate(per_second=2, burst=3)
    waits = [limiter.reserve_now("d", rate) for _ in range(6)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == [0.5, 1.0, 1.5]  # waiters line up, each behind the previous


def test_idle_time_is_capped_at_burst():
    clock = FakeClock()
    limiter = GcraLimiter(clock)
    rate = Rate(per_second=10, burst=2)
    limiter.reserve_now("d", rate)
    limiter.reserve_now("d", rate)
    clock.advance(100.0)
    assert [limiter.reserve_now("d", rate) for _ in range(3)] == [0, 0, 0.1]


@pytest.mark.anyio
async def test_each_destination_has_its_own_slots():
    limiter = GcraLimiter(FakeClock())
    rate = Rate(per_second=1, burst=1)
    assert await limiter.reserve("a", rate) == 0
    assert await limiter.reserve("a", rate) == 1.0
    assert await limiter.reserve("b", rate) == 0
    await limiter.unreserve("a", rate)
    assert await limiter.reserve("a", rate) == 1.0
