"""Token buckets pace requests before the provider has to say 429."""

from __future__ import annotations

from notify_core import Rate
from notify_core._ratelimit import Buckets, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_paced():
    clock = FakeClock()
    bucket = TokenBucket(Rate(per_second=2, burst=3), clock)
    waits = [bucket.reserve() for _ in range(6)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == [0.5, 1.0, 1.5]  # waiters line up, each behind the previous


def test_refill_is_capped_at_burst():
    clock = FakeClock()
    bucket = TokenBucket(Rate(per_second=10, burst=2), clock)
    bucket.reserve()
    bucket.reserve()
    clock.now = 100.0
    assert [bucket.reserve() for _ in range(3)] == [0, 0, 0.1]


def test_each_destination_has_its_own_bucket():
    clock = FakeClock()
    buckets = Buckets(clock)
    slow = buckets.get("a", Rate(per_second=1, burst=1))
    other = buckets.get("b", Rate(per_second=1, burst=1))
    assert slow.reserve() == 0
    assert slow.reserve() == 1.0
    assert other.reserve() == 0
    assert buckets.get("a", Rate(per_second=1, burst=1)) is slow
