"""Deliveries per second and emit-to-sink latency through Celery, beside ``notify worker``.

    python benchmarks/bench_celery.py            # full counts
    python benchmarks/bench_celery.py --quick    # smaller counts
    nox -s bench                                 # with the other benchmarks

Every run shares one setup: a real ``redis-server`` (the test kit's, on loopback) as the
broker and as the shared limiter, a SQLite store, and a sink that answers every request
after 20 ms (an aiohttp server in its own process, which records when each delivery id
arrived). Measured:

* throughput: N deliveries queued while no worker runs (``Notifier.emit``; with the
  Celery executor each is stored and published, for ``notify worker`` stored ``pending``),
  then drained: N over the span from the first attempt's start to the last one's end,
  from the store's attempt log; and what one ``emit`` costs the application;
* latency: deliveries emitted one at a time at a steady pace while the workers run, from
  ``emit`` returning to the sink receiving the request (p50/p99). ``notify worker`` polls
  the store every 0.5 s when idle: that is its latency.

Figures are printed, never asserted, and not written to RESULTS.md (bench_pipeline.py
owns it): this machine's load changes them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

from notify_core import Message, Notifier

# the class itself, not notify_core.testing: that package's fixtures need pytest
from notify_core.testing._services import RedisServer, free_port

DELAY = 0.020  # the sink's answer time: a provider's, not a loopback's

_SINK = """
import asyncio, json, sys, time
from aiohttp import web

arrivals = {}

async def hook(request):
    await request.read()
    arrivals.setdefault(request.headers.get("Idempotency-Key", ""), time.time())
    await asyncio.sleep(float(sys.argv[2]))
    return web.Response(text="ok")

async def seen(request):
    return web.json_response(arrivals)

async def forget(request):
    arrivals.clear()
    return web.Response(text="ok")

app = web.Application()
app.router.add_get("/arrivals", seen)
app.router.add_post("/forget", forget)
app.router.add_route("*", "/{tail:.*}", hook)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""

CONFIG = """
[notify]
db = "bench.db"
executor = "{executor}"
limiter = "{limiter}"
concurrency = 64
{celery}
[channels.sink]
provider = "webhook"
url = "{sink}/hook"
timeout = 5
rate = {{ per_second = 1000000, burst = 100000 }}
"""
CELERY = """
[celery]
broker = "{broker}"
queue = "bench"
sweep_every = "30s"
sweep_after = "60s"
"""


@contextmanager
def sink() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", _SINK, str(port), str(DELAY)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(f"{url}/arrivals", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def arrivals(url: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{url}/arrivals", timeout=10) as answer:
        data: dict[str, float] = json.load(answer)
    return data


def forget(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/forget", method="POST"), timeout=10)


class Setup:
    """One store, one configuration, and the worker processes of one scenario."""

    def __init__(self, directory: Path, redis: RedisServer, sink_url: str, executor: str) -> None:
        base = redis.url.rsplit("/", 1)[0]
        self.directory = directory
        self.config = directory / "notify.toml"
        self.config.write_text(
            CONFIG.format(
                executor=executor,
                limiter=f"{base}/1",
                celery=CELERY.format(broker=f"{base}/0") if executor == "celery" else "",
                sink=sink_url,
            )
        )
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}
        self.env["NOTIFY_CONFIG"] = str(self.config)
        self.procs: list[subprocess.Popen[bytes]] = []

    def celery_worker(self, pool: str, concurrency: int, name: str) -> None:
        log = (self.directory / f"{name}.log").open("wb")
        argv = [sys.executable, "-m", "celery", "-A", "notify_celery.app", "worker"]
        argv += ["--pool", pool, "-c", str(concurrency), "-Q", "bench", "-n", f"{name}@%h"]
        argv += ["-l", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        self.procs.append(
            subprocess.Popen(argv, cwd=self.directory, env=self.env, stdout=log, stderr=log)
        )

    def notify_worker(self, concurrency: int) -> None:
        argv = [sys.executable, "-c", "import sys; from notify_core._cli import main; main()"]
        argv += ["worker", "--concurrency", str(concurrency)]
        self.procs.append(
            subprocess.Popen(
                argv,
                cwd=self.directory,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def delivered(self) -> int:
        with sqlite3.connect(self.directory / "bench.db") as db:
            (count,) = db.execute(
                "SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'"
            ).fetchone()
        return int(count)

    def wait_delivered(self, count: int, timeout: float = 600) -> float:
        deadline = time.monotonic() + timeout
        while self.delivered() < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {self.delivered()} of {count} delivered")
            time.sleep(0.01)
        return time.perf_counter()

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()


def throughput(setup: Setup, run: Run, n: int) -> tuple[float, float]:
    """(deliveries per second, ms per emit): N queued first, then drained by the workers.

    Both executors are measured the same way: the deliveries are queued while no worker
    runs (published to Redis, or stored for ``notify worker``), then the workers start,
    and the rate is N over the time from the first attempt's start to the last one's
    end, read from the store's attempt log (worker start-up is not counted).
    """
    with Notifier.from_config(setup.config, env={}) as notifier:
        notifier.emit("bench.warm", {}, to=["sink"], wait=0)  # imports, broker connection
        began = time.perf_counter()
        for i in range(n):
            notifier.emit("bench.load", {"i": i}, to=["sink"], wait=0)
        emit_ms = (time.perf_counter() - began) / n * 1000
    run.start(setup)
    setup.wait_delivered(n + 1)
    with sqlite3.connect(setup.directory / "bench.db") as db:
        first, last = db.execute(
            "SELECT MIN(started), MAX(started + duration) FROM attempts"
        ).fetchone()
    return n / (last - first), emit_ms


def latency(setup: Setup, sink_url: str, n: int, per_second: float) -> tuple[float, float]:
    """p50 and p99 of emit-returned → sink-received, in milliseconds."""
    forget(sink_url)
    emitted: dict[str, float] = {}
    with Notifier.from_config(setup.config, env={}) as notifier:
        before = setup.delivered()
        notifier.emit("bench.warm", {}, to=["sink"], wait=0)
        setup.wait_delivered(before + 1, timeout=60)
        start = time.perf_counter()
        for i in range(n):
            result = notifier.send(Message(title=f"latency {i}"), to=["sink"], wait=0)
            emitted[result.deliveries[0].id] = time.time()
            pause = start + (i + 1) / per_second - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
    setup.wait_delivered(before + 1 + n)
    seen = arrivals(sink_url)
    waits = sorted((seen[i] - t) * 1000 for i, t in emitted.items())
    return statistics.median(waits), waits[min(len(waits) - 1, int(len(waits) * 0.99))]


@attrs.frozen
class Run:
    """What one row measures: Celery workers (pool, concurrency) or notify worker processes."""

    name: str
    celery: bool
    workers: int
    pool: str = "threads"
    concurrency: int = 64

    def start(self, setup: Setup) -> None:
        for w in range(self.workers):
            if self.celery:
                setup.celery_worker(self.pool, self.concurrency, f"w{w}")
            else:
                setup.notify_worker(self.concurrency)


def scenario(run: Run, redis: RedisServer, sink_url: str, n: int, lat_n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        redis.flush()
        setup = Setup(Path(tmp), redis, sink_url, "celery" if run.celery else "local")
        try:
            rate, emit_ms = throughput(setup, run, n)
            p50, p99 = latency(setup, sink_url, lat_n, per_second=20)
        finally:
            setup.stop()
    print(
        f"{run.name:<46} {rate:>9,.0f} /s  {emit_ms:>6.2f} ms"
        f"   p50 {p50:>7.1f} ms   p99 {p99:>7.1f} ms",
        flush=True,
    )


RUNS = [
    Run("celery, 1 worker (threads -c 32)", True, 1, "threads", 32),
    Run("celery, 2 workers (threads -c 32)", True, 2, "threads", 32),
    Run("celery, 1 worker (prefork -c 4)", True, 1, "prefork", 4),
    Run("celery, 2 workers (prefork -c 4)", True, 2, "prefork", 4),
    Run("notify worker, 1 process (--concurrency 64)", False, 1),
    Run("notify worker, 2 processes (--concurrency 64)", False, 2),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    args, _ = parser.parse_known_args(argv)  # nox passes every bench script the same args
    if shutil.which("redis-server") is None:
        print("bench_celery: redis-server is missing (apt-get install redis-server)")
        return 0
    try:
        import celery  # noqa: F401
    except ImportError:
        print("bench_celery: celery is missing (pip install ./integrations/notify_celery)")
        return 0
    n, lat_n = (300, 40) if args.quick else (2000, 200)
    print(
        f"Celery executor vs notify worker on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; sink answers after {DELAY * 1000:.0f} ms; "
        f"{n} deliveries; latency: {lat_n} sends at 20/s"
    )
    print(f"{'setup':<46} {'deliveries':>12} {'per emit':>9}   {'emit -> sink latency':>28}")
    with RedisServer() as redis, sink() as sink_url:
        for run in RUNS:
            scenario(run, redis, sink_url, n, lat_n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
