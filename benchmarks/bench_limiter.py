"""What a rate-limit reservation costs: in-process token bucket, in-process GCRA, GCRA in Redis.

    python benchmarks/bench_limiter.py            # full counts
    python benchmarks/bench_limiter.py --quick    # smaller counts
    nox -s bench                                  # with the other benchmarks

Redis is a real ``redis-server`` on loopback, started by the test kit (``apt-get install
redis-server``). Figures are printed, never asserted, and not written to RESULTS.md
(bench_pipeline.py owns it): this machine's load changes them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable

from notify_core import Rate
from notify_core._clock import SYSTEM_CLOCK
from notify_core._limits_gcra import GcraLimiter
from notify_core._limits_redis import RedisLimiter

# the class itself, not notify_core.testing: that package's fixtures need pytest
from notify_core.testing._services import RedisServer

#: Generous enough that the queue stays short; the cost of a reservation does not depend
#: on the rate (every call is one arithmetic step or one script), only realism does.
RATE = Rate(per_second=1000, burst=10)


def row(name: str, count: int, seconds: float, note: str = "") -> None:
    per_s = count / seconds
    print(f"{name:<52} {per_s:>12,.0f} /s {seconds / count * 1e6:>9.2f} µs  {note}")


def sync_loop(name: str, count: int, reserve: Callable[[], float]) -> None:
    for _ in range(min(count, 1000)):  # warm-up
        reserve()
    began = time.perf_counter()
    for _ in range(count):
        reserve()
    row(name, count, time.perf_counter() - began)


async def async_loop(
    name: str, count: int, reserve: Callable[[], Awaitable[float]], note: str = ""
) -> None:
    for _ in range(min(count, 200)):  # warm-up: connections, script cache
        await reserve()
    began = time.perf_counter()
    for _ in range(count):
        await reserve()
    row(name, count, time.perf_counter() - began, note)


async def concurrent(
    name: str, count: int, tasks: int, reserve: Callable[[int], Awaitable[float]]
) -> None:
    per_task = count // tasks

    async def worker(i: int) -> None:
        for _ in range(per_task):
            await reserve(i)

    await asyncio.gather(*(worker(i) for i in range(tasks)))  # warm-up: one connection each
    began = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(tasks)))
    row(name, per_task * tasks, time.perf_counter() - began, "(µs = wall time / reservations)")


async def redis_figures(url: str, n: int) -> None:
    async with RedisLimiter(url) as limiter:
        await async_loop(
            "RedisLimiter.reserve, sequential (1 destination)",
            n,
            lambda: limiter.reserve("https://hooks.example.com/one", RATE),
            "(one round trip each)",
        )
        for tasks in (8, 64):
            await concurrent(
                f"RedisLimiter.reserve, {tasks} tasks (1 destination)",
                n * 4,
                tasks,
                lambda i: limiter.reserve("https://hooks.example.com/one", RATE),
            )
        await concurrent(
            "RedisLimiter.reserve, 64 tasks (64 destinations)",
            n * 4,
            64,
            lambda i: limiter.reserve(f"https://hooks.example.com/{i}", RATE),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    args, _ = parser.parse_known_args(argv)  # nox passes every bench script the same args
    n_local, n_redis = (50_000, 1_000) if args.quick else (300_000, 5_000)

    print(f"rate-limit reservations on {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'measurement':<52} {'reservations':>15} {'per call':>12}")

    clock = SYSTEM_CLOCK
    gcra = GcraLimiter(clock)
    sync_loop(
        "GcraLimiter.reserve_now (in-process, sync)",
        n_local,
        lambda: gcra.reserve_now("https://hooks.example.com/one", RATE),
    )
    asyncio.run(
        async_loop(
            "GcraLimiter.reserve (in-process, awaited)",
            n_local,
            lambda: gcra.reserve("https://hooks.example.com/one", RATE),
        )
    )

    with RedisServer() as server:
        assert server.startup_seconds is not None
        print(f"(redis-server on loopback, started in {server.startup_seconds * 1000:.0f} ms)")
        asyncio.run(redis_figures(server.url, n_redis))
    return 0


if __name__ == "__main__":
    sys.exit(main())
