"""GCRA pacing: the math in-process, then the same math in Redis, shared by many processes."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from notify_core import Rate
from notify_core._limits_gcra import (
    GcraLimiter,
    gcra_reserve,
    gcra_unreserve,
    interval_us,
)
from notify_core._limits_redis import (
    DEFAULT_PREFIX,
    LimiterUnavailable,
    RedisLimiter,
    key_for,
    masked_url,
)
from notify_core.testing import FakeClock, RedisServer


class TokenBucket:
    """The classic token bucket the pipeline used before GCRA: the oracle it must equal."""

    def __init__(self, rate: Rate, clock: FakeClock) -> None:
        self.rate, self.clock = rate, clock
        self.tokens, self.last = float(rate.burst), clock.monotonic()

    def reserve(self) -> float:
        now = self.clock.monotonic()
        self.tokens = min(self.rate.burst, self.tokens + (now - self.last) * self.rate.per_second)
        self.last = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate.per_second

    def unreserve(self) -> None:
        self.tokens = min(float(self.rate.burst), self.tokens + 1.0)

    def monotonic(self) -> float:  # the token bucket reads a Clock
        return self.now


# -- the math, in-process ------------------------------------------------------------------


def test_burst_then_one_every_interval() -> None:
    limiter = GcraLimiter(FakeClock())
    rate = Rate(per_second=2, burst=3)
    waits = [limiter.reserve_now("d", rate) for _ in range(6)]
    assert waits == [0, 0, 0, 0.5, 1.0, 1.5]  # b at once, then queued one T apart


def test_idle_time_refills_up_to_the_burst_only() -> None:
    clock = FakeClock()
    limiter = GcraLimiter(clock)
    rate = Rate(per_second=10, burst=2)
    limiter.reserve_now("d", rate)
    limiter.reserve_now("d", rate)
    clock.offset = 100.0
    assert [limiter.reserve_now("d", rate) for _ in range(3)] == [0, 0, 0.1]


def test_time_passing_moves_the_queue_forward() -> None:
    clock = FakeClock()
    limiter = GcraLimiter(clock)
    rate = Rate(per_second=1, burst=1)
    assert [limiter.reserve_now("d", rate) for _ in range(3)] == [0, 1, 2]
    clock.offset = 1.5  # the slots at 0 and 1 went; the one at 2 is 0.5 s away
    assert limiter.reserve_now("d", rate) == 1.5  # the next slot is at 3


@pytest.mark.anyio
async def test_concurrent_reservations_get_consecutive_slots() -> None:
    limiter = GcraLimiter(FakeClock())
    rate = Rate(per_second=10, burst=1)
    waits = await asyncio.gather(*(limiter.reserve("d", rate) for _ in range(20)))
    assert sorted(waits) == pytest.approx([i / 10 for i in range(20)])


def test_unreserve_gives_back_the_latest_slot() -> None:
    limiter = GcraLimiter(FakeClock())
    rate = Rate(per_second=1, burst=1)
    assert [limiter.reserve_now("d", rate) for _ in range(3)] == [0, 1, 2]
    limiter.unreserve_now("d", rate)  # the caller of slot 2 was cancelled
    assert limiter.reserve_now("d", rate) == 2  # the next caller takes it


def test_unreserve_cannot_bank_credit_beyond_the_burst() -> None:
    limiter = GcraLimiter(FakeClock())
    rate = Rate(per_second=1, burst=2)
    for _ in range(5):
        limiter.unreserve_now("d", rate)  # nothing was reserved: nothing to give back
    assert [limiter.reserve_now("d", rate) for _ in range(3)] == [0, 0, 1]
    assert len(limiter) == 1


def test_destinations_are_independent_and_idle_ones_are_forgotten() -> None:
    clock = FakeClock()
    limiter = GcraLimiter(clock)
    limiter.SWEEP_EVERY = 3
    rate = Rate(per_second=1, burst=1)
    assert limiter.reserve_now("a", rate) == 0
    assert limiter.reserve_now("b", rate) == 0
    assert limiter.reserve_now("a", rate) == 1.0  # third reservation: a sweep, none idle
    assert len(limiter) == 2
    clock.offset = 10.0
    for _ in range(3):
        limiter.reserve_now("c", rate)
    assert len(limiter) == 1  # a and b were idle at the sweep


def test_the_interval_rounds_up_so_the_pace_is_never_faster() -> None:
    assert interval_us(Rate(per_second=3)) == 333_334
    assert interval_us(Rate(per_second=10)) == 100_000
    assert interval_us(Rate(per_second=1e9, burst=1)) == 1


#: Rates whose interval is a whole number of microseconds, so float and integer agree.
_rates = st.builds(
    Rate,
    per_second=st.sampled_from([0.5, 1, 2, 4, 5, 10, 20, 50, 100, 1000]),
    burst=st.integers(1, 5),
)


@settings(max_examples=200, deadline=None)
@given(
    rate=_rates,
    steps=st.lists(
        st.tuples(st.integers(0, 3_000_000), st.sampled_from(["reserve", "unreserve"])),
        max_size=40,
    ),
)
def test_gcra_is_the_token_bucket(rate: Rate, steps: list[tuple[int, str]]) -> None:
    """Same waits as the in-process token bucket, step by step: one algorithm, two states."""
    clock = FakeClock()
    ticks = 0
    bucket = TokenBucket(rate, clock)
    gcra = GcraLimiter(clock)
    for advance, op in steps:
        ticks += advance
        clock.offset = ticks / 1_000_000
        if op == "reserve":
            assert gcra.reserve_now("d", rate) == pytest.approx(bucket.reserve(), abs=1e-6)
        else:
            gcra.unreserve_now("d", rate)
            bucket.unreserve()


# -- the same math in Redis ----------------------------------------------------------------


@pytest.fixture
async def limiter(redis_url: str) -> AsyncIterator[RedisLimiter]:
    limiter = RedisLimiter(redis_url)
    yield limiter
    await limiter.aclose()


@pytest.mark.anyio
async def test_redis_burst_then_one_every_interval(limiter: RedisLimiter) -> None:
    rate = Rate(per_second=10, burst=3)
    results = [await limiter._call("reserve", "d", rate) for _ in range(6)]
    delays = [d for d, _ in results]
    assert delays[:3] == [0, 0, 0]
    first_now = results[0][1]
    # slots in Redis's clock: exactly one interval apart after the burst, whatever the
    # round trips cost (assuming the six calls take less than 100 ms)
    slots = [now + delay for delay, now in results[3:]]
    assert slots == [first_now + k * 100_000 for k in (1, 2, 3)]


@pytest.mark.anyio
async def test_more_concurrent_reservations_than_connections_wait_for_one(redis_url: str) -> None:
    """A worker with 128 deliveries waiting for their slots: none fails for a connection."""
    rate = Rate(per_second=1, burst=1)  # slow: the queue never drains while they arrive
    async with RedisLimiter(redis_url, connections=4) as limiter:
        results = await asyncio.gather(*(limiter._call("reserve", "d", rate) for _ in range(300)))
    slots = sorted(now + delay for delay, now in results)
    assert slots == [slots[0] + k * 1_000_000 for k in range(300)]  # 300 consecutive slots


@pytest.mark.anyio
async def test_the_lua_script_computes_what_the_python_does(limiter: RedisLimiter) -> None:
    """Replay every call, on the clock Redis used, through the Python math."""
    rng = random.Random(20240601)
    rates = [Rate(1000, 1), Rate(500, 3), Rate(3, 2), Rate(2000, 4)]
    calls = []
    for _ in range(400):
        destination = rng.choice(["a", "b", "c"])
        rate = rng.choice(rates)
        op = "reserve" if rng.random() < 0.75 else "unreserve"
        delay, now = await limiter._call(op, destination, rate)
        calls.append((op, destination, rate, delay, now))
        if rng.random() < 0.1:
            await asyncio.sleep(rng.choice([0.001, 0.003, 0.01]))  # let keys go idle, expire

    state: dict[str, int | None] = {}
    for op, destination, rate, delay, now in calls:
        stored = state.get(destination)
        if op == "reserve":
            state[destination], expected = gcra_reserve(stored, now, interval_us(rate), rate.burst)
            assert delay == expected
        else:
            state[destination] = gcra_unreserve(stored, now, interval_us(rate))
            assert delay == 0
    assert sum(d > 0 for op, _, _, d, _ in calls if op == "reserve") > 50  # queues did form


@pytest.mark.anyio
async def test_concurrent_tasks_get_consecutive_slots(limiter: RedisLimiter) -> None:
    rate = Rate(per_second=10, burst=1)
    results = await asyncio.gather(*(limiter._call("reserve", "d", rate) for _ in range(50)))
    slots = sorted(now + delay for delay, now in results)
    assert [b - a for a, b in itertools.pairwise(slots)] == [100_000] * 49


@pytest.mark.anyio
async def test_keys_are_hashed_and_vanish_when_idle(limiter: RedisLimiter, redis_url: str) -> None:
    destination = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"
    for _ in range(3):  # a queue 300 ms long
        await limiter.reserve(destination, Rate(per_second=10, burst=1))
    client = redis.Redis.from_url(redis_url)
    try:
        keys = client.keys("*")
        assert keys == [key_for(destination).encode()]
        assert keys[0].startswith(DEFAULT_PREFIX.encode())
        assert b"secret" not in keys[0] and b"secret" not in (client.get(keys[0]) or b"")
        assert 200 < client.pttl(keys[0]) <= 300  # the TTL is the queue's length

        await limiter.reserve("fast", Rate(per_second=1000, burst=1))  # a 1 ms queue
        await asyncio.sleep(0.01)
        assert client.exists(key_for("fast")) == 0  # idle: gone
    finally:
        client.close()


@pytest.mark.anyio
async def test_a_prefix_separates_limiters(redis_url: str) -> None:
    rate = Rate(per_second=1, burst=1)
    async with RedisLimiter(redis_url) as one, RedisLimiter(redis_url, prefix="other:") as two:
        assert await one.reserve("d", rate) == 0
        assert await two.reserve("d", rate) == 0
        assert await one.reserve("d", rate) > 0.9


@pytest.mark.anyio
async def test_redis_unreserve_gives_back_the_latest_slot(limiter: RedisLimiter) -> None:
    rate = Rate(per_second=1, burst=1)
    first = [await limiter._call("reserve", "d", rate) for _ in range(3)]
    await limiter.unreserve("d", rate)
    delay, now = await limiter._call("reserve", "d", rate)
    assert now + delay == first[2][0] + first[2][1]  # slot 2 again


_WORKER = """
import asyncio, json, sys, time
from notify_core import Rate
from notify_core._limits_redis import RedisLimiter

async def main(url: str, count: int) -> None:
    limiter = RedisLimiter(url)
    rate = Rate(per_second=10, burst=1)
    await limiter.reserve("warm-up", rate)  # connected, script loaded: ready to race
    print("ready", flush=True)
    sys.stdin.readline()
    slots = []
    for _ in range(count):
        before = time.time()
        delay_us, now_us = await limiter._call("reserve", "shared-destination", rate)
        after = time.time()
        slots.append([before + delay_us / 1e6, after + delay_us / 1e6, now_us + delay_us])
    await limiter.aclose()
    print(json.dumps(slots), flush=True)

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def test_four_processes_share_one_pace(redis_url: str) -> None:
    """Four worker processes, 40 slots at 10/s: one pace, as if they were one process.

    No sleeping: each process records when its slot is, as it sees it (its clock around
    the call, plus the wait) and exactly (Redis's clock plus the wait). What a process
    sees is uncertain by its round trip, and under load by its scheduling; so the check
    is that no two slots can have been closer than 0.09 s, a check of order and spacing.
    """
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, redis_url, "10"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready"
        for worker in workers:  # start them together, so their reservations interleave
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = [json.loads(worker.communicate(timeout=30)[0]) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    assert [len(r) for r in results] == [10, 10, 10, 10]
    exact = sorted(slot for r in results for *_, slot in r)
    assert [b - a for a, b in itertools.pairwise(exact)] == [100_000] * 39
    seen = sorted(((lo, hi) for r in results for lo, hi, _ in r), key=sum)
    widest = [b_hi - a_lo for (a_lo, _), (_, b_hi) in itertools.pairwise(seen)]
    assert min(widest) >= 0.09, widest
    assert seen[-1][1] - seen[0][0] >= 3.9


@pytest.mark.anyio
async def test_a_redis_restart_mid_run_costs_nothing_but_the_state(
    redis_server: RedisServer, limiter: RedisLimiter
) -> None:
    """redis-py reconnects on the next command and the script is loaded again (NOSCRIPT):
    a reservation after the restart works; the pacing state is gone (no persistence)."""
    rate = Rate(per_second=10, burst=1)
    assert [round(await limiter.reserve("d", rate), 1) for _ in range(3)] == [0, 0.1, 0.2]
    redis_server.restart()
    assert await limiter.reserve("d", rate) == 0  # a fresh Redis: an idle destination
    assert await limiter.reserve("d", rate) == pytest.approx(0.1, abs=0.01)


@pytest.mark.anyio
async def test_redis_down_is_a_clear_error_without_the_password() -> None:
    with RedisServer(password="p4ssw0rd-hunter2") as server:
        limiter = RedisLimiter(server.url, retries=2, timeout=1.0)
        assert "p4ssw0rd" not in repr(limiter)
        rate = Rate(per_second=10, burst=1)
        assert await limiter.reserve("d", rate) == 0
        server.stop()
        began = time.monotonic()
        with pytest.raises(LimiterUnavailable) as caught:
            await limiter.reserve("d", rate)
        assert time.monotonic() - began < 2  # retries are bounded: no hang
        message = str(caught.value)
        assert message.startswith(f"rate limiter: Redis at redis://:***@127.0.0.1:{server.port}/0")
        assert "p4ssw0rd" not in message and caught.value.__cause__ is None
        server.start()  # back on the same port: the same limiter works again
        assert await limiter.reserve("d", rate) == 0
        await limiter.aclose()


@pytest.mark.anyio
async def test_a_hung_redis_costs_at_most_the_deadline(
    redis_server: RedisServer, redis_url: str
) -> None:
    """A Redis that stops answering (SIGSTOP: a stalled host) rather than refusing."""
    async with RedisLimiter(redis_url, timeout=0.2, deadline=0.5) as limiter:
        rate = Rate(per_second=10, burst=1)
        assert await limiter.reserve("d", rate) == 0
        assert redis_server._proc is not None
        os.kill(redis_server._proc.pid, signal.SIGSTOP)
        try:
            began = time.monotonic()
            with pytest.raises(LimiterUnavailable, match=r"did not reserve a slot within 0\.5 s"):
                await limiter.reserve("d", rate)
            assert time.monotonic() - began < 1.5
        finally:
            os.kill(redis_server._proc.pid, signal.SIGCONT)
        assert await limiter.reserve("d", rate) > 0  # answering again, state intact


@pytest.mark.anyio
async def test_a_wrong_password_is_a_clear_error() -> None:
    with RedisServer(password="right-password") as server:
        url = server.url.replace("right-password", "wrong-password")
        async with RedisLimiter(url, retries=0) as limiter:
            with pytest.raises(LimiterUnavailable, match=r"redis://:\*\*\*@") as caught:
                await limiter.reserve("d", Rate(per_second=1))
        assert "wrong-password" not in str(caught.value)


def test_urls_are_masked() -> None:
    assert masked_url("redis://:pw@h:1/0") == "redis://:***@h:1/0"
    assert masked_url("rediss://user:pw@h:1/0") == "rediss://user:***@h:1/0"
    assert masked_url("redis://h:1/0") == "redis://h:1/0"
    with pytest.raises(ValueError, match=r"not a Redis URL: http://:\*\*\*@h") as caught:
        RedisLimiter.from_url("http://:secret-pw@h/0")
    assert "secret-pw" not in str(caught.value)


def test_importing_notify_core_needs_no_redis() -> None:
    code = (
        "import sys, notify_core, notify_core._limits_redis, notify_core._limits_gcra;"
        "assert 'redis' not in sys.modules, 'redis imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
