"""Token buckets pace requests before the provider has to say 429."""

from __future__ import annotations

import pytest

from notify_core import Rate
from notify_core._limits import LocalLimiter, TokenBucket
from notify_core.testing import FakeClock


def test_burst_then_paced():
    bucket = TokenBucket(Rate(per_second=2, burst=3), FakeClock())
    waits = [bucket.reserve() for _ in range(6)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == [0.5, 1.0, 1.5]  # waiters line up, each behind the previous


def test_refill_is_capped_at_burst():
    clock = FakeClock()
    bucket = TokenBucket(Rate(per_second=10, burst=2), clock)
    bucket.reserve()
    bucket.reserve()
    clock.advance(100.0)
    assert [bucket.reserve() for _ in range(3)] == [0, 0, 0.1]


@pytest.mark.anyio
async def test_each_destination_has_its_own_bucket():
    limiter = LocalLimiter(FakeClock())
    rate = Rate(per_second=1, burst=1)
    assert await limiter.reserve("a", rate) == 0
    assert await limiter.reserve("a", rate) == 1.0
    assert await limiter.reserve("b", rate) == 0
    await limiter.unreserve("a", rate)
    assert await limiter.reserve("a", rate) == 1.0
