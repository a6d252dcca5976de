"""Many workers on one PostgreSQL store, and what a shared rate limit costs per send.

    python benchmarks/bench_workers.py            # full counts; updates benchmarks/RESULTS.md
    python benchmarks/bench_workers.py --quick    # smaller counts, RESULTS.md untouched
    nox -s bench                                  # with the other benchmarks

1. Scaling: 1, 2 and 4 ``notify worker`` processes drain one PostgreSQL outbox into a sink
   that answers after 20 ms (an aiohttp process: ``await asyncio.sleep(0.02)``), so a run
   is bound by waiting, not by this machine's cores. Workers start first and idle on
   ``LISTEN``; the messages are accepted in one transaction, whose ``NOTIFY`` wakes them
   all; the rate is deliveries over the span of their attempts (from the store's log).
   Target: k workers ≥ 0.85 × k × one worker.
2. The shared limiter's cost: µs per reservation in-process, in SQLite and in PostgreSQL
   (one at a time, and 64 at once through the batch writer); and the pipeline's
   deliveries/s with ``limiter = "local"`` against ``"store"``, on both stores, against
   the loopback sink of the other benchmarks (nginx ``return 200``, see ``_sink.py``).

PostgreSQL is the test kit's throw-away server (``apt-get install postgresql``), with its
test settings (fsync off): what is measured is notify's side, not a disk. Figures are
printed, never asserted: this machine's load changes them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _sink import sink, slow_sink

from notify_core import Channel, Message, Notifier, Providers, Rate, parse_config
from notify_core._limits_gcra import GcraLimiter, interval_us
from notify_core._limits_store import StoreLimiter
from notify_core._store import open_store
from notify_core._writer import BatchWriter

# the class itself, not notify_core.testing: that package's fixtures need pytest
from notify_core.testing._services import PostgresServer

HERE = Path(__file__).parent
CLI = [sys.executable, "-c", "import sys; from notify_core._cli import main; sys.exit(main())"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}
UNLIMITED = Rate(per_second=1e6, burst=10**6)
MARKERS = ("<!-- bench_workers: begin -->", "<!-- bench_workers: end -->")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sql(url: str, statement: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(statement).fetchall()  # type: ignore[arg-type]


# -- 1. scaling ----------------------------------------------------------------------------


async def _accept(config: Path, db: str, count: int) -> None:
    async with Notifier.from_config(config, db=db, env={}) as notifier:
        # one loop turn: the batch writer makes it one transaction, hence one NOTIFY
        await asyncio.gather(
            *(notifier.asend(Message(title=f"m{i}"), wait=0) for i in range(count))
        )


def scaling(
    server: PostgresServer, sink_url: str, workers: int, count: int, concurrency: int
) -> dict[str, float]:
    db = server.create_database(f"bench_workers_{workers}")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "notify.toml"
        config.write_text(f"""
[notify]
db = "{db}"
[channels.sink]
provider = "webhook"
url = "{sink_url}/hook"
rate = {{ per_second = 1000000, burst = 1000000 }}
""")
        procs = [
            subprocess.Popen(
                [*CLI, "worker", "--concurrency", str(concurrency)],
                cwd=tmp,
                env=ENV,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(workers)
        ]
        try:
            listening = "SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"
            deadline = time.monotonic() + 60
            while sql(db, listening)[0][0] < workers:  # every worker up and idle
                if time.monotonic() > deadline:
                    raise RuntimeError("workers did not start")
                time.sleep(0.05)
            cpu_before = sum(cpu_seconds(p.pid) for p in procs)
            asyncio.run(_accept(config, db, count))
            delivered = "SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'"
            while sql(db, delivered)[0][0] < count:
                time.sleep(0.1)
            cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu_before
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                _, err = proc.communicate(timeout=60)
                if proc.returncode != 0:
                    raise RuntimeError(f"worker exited {proc.returncode}: {err}")
        first, last = sql(db, "SELECT MIN(started), MAX(started + duration) FROM attempts")[0]
        attempts = sql(db, "SELECT COUNT(*) FROM attempts")[0][0]
    server.drop_database(f"bench_workers_{workers}")  # the next round makes it again
    span = last - first
    return {"rate": count / span, "span": span, "cpu": cpu / span, "attempts": attempts}


# -- 2. the shared limiter -----------------------------------------------------------------

RATE = Rate(per_second=1e6, burst=10**6)  # never waits: the cost of the call only


def one_by_one(label: str, count: int, reserve: Callable[[], Any]) -> tuple[str, float]:
    for _ in range(min(count, 200)):
        reserve()
    began = time.perf_counter()
    for _ in range(count):
        reserve()
    return label, (time.perf_counter() - began) / count * 1e6


async def _together(count: int, tasks: int, reserve: Callable[[], Awaitable[float]]) -> float:
    async def run(n: int) -> None:
        for _ in range(n):
            await reserve()

    await asyncio.gather(*(run(20) for _ in range(tasks)))  # warm-up
    began = time.perf_counter()
    await asyncio.gather(*(run(count // tasks) for _ in range(tasks)))
    return (time.perf_counter() - began) / (count // tasks * tasks) * 1e6


def together(label: str, count: int, store_at: str | None) -> tuple[str, float]:
    async def run() -> float:
        if store_at is None:
            limiter: Any = GcraLimiter()
            return await _together(count, 64, lambda: limiter.reserve("d", RATE))
        store = open_store(store_at)
        writer = BatchWriter(store)
        shared = StoreLimiter(store, writer)
        try:
            return await _together(count, 64, lambda: shared.reserve("d", RATE))
        finally:
            writer.close()
            store.close()

    return label, asyncio.run(run())


def reservation_costs(pg_url: str, sqlite_path: str, n: int) -> list[tuple[str, float]]:
    interval = interval_us(RATE)
    out = []
    local = GcraLimiter()
    out.append(
        one_by_one(
            "in-process bucket, one at a time", n * 10, lambda: local.bucket("d", RATE).reserve()
        )
    )
    out.append(together("in-process bucket, 64 tasks at once", n * 10, None))
    lite = open_store(sqlite_path)
    out.append(
        one_by_one(
            "SQLite reserve_slots, one commit each",
            n,
            lambda: lite.reserve_slots("d", interval, RATE.burst),
        )
    )
    lite.close()
    out.append(together("SQLite StoreLimiter, 64 tasks (batched)", n * 2, sqlite_path))
    pg = open_store(pg_url)
    out.append(
        one_by_one(
            "PostgreSQL reserve_slots, one statement each",
            n // 5,
            lambda: pg.reserve_slots("d", interval, RATE.burst),
        )
    )
    pg.close()
    out.append(together("PostgreSQL StoreLimiter, 64 tasks (batched)", n, pg_url))
    return out


async def _pipeline(url: str, db: str, limiter: str, messages: int) -> float:
    channel = Channel(name="c", provider="webhook", url=f"{url}/c", rate=UNLIMITED)
    config = parse_config({"notify": {"limiter": limiter}}, Providers.discover(), env={})
    async with Notifier([channel], config=config, db=db, env={}, concurrency=50) as notifier:
        await notifier.asend(Message(title="warm"), wait=30)
        began = time.perf_counter()
        results = await asyncio.gather(
            *(notifier.asend(Message(title=f"m{i}"), wait=60) for i in range(messages))
        )
        elapsed = time.perf_counter() - began
    delivered = sum(d.status == "delivered" for r in results for d in r.deliveries)
    if delivered != messages:
        raise RuntimeError(f"only {delivered} of {messages} delivered")
    return delivered / elapsed


def pipelines(url: str, server: PostgresServer, messages: int) -> dict[tuple[str, str], float]:
    """Best of three rounds, the four variants interleaved (the machine's speed drifts)."""
    best: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(3):
            for store in ("SQLite", "PostgreSQL"):
                for limiter in ("local", "store"):
                    if store == "SQLite":
                        db = str(Path(tmp) / f"{limiter}{round_}.db")
                    else:
                        db = server.create_database(f"bench_pipeline_{limiter}_{round_}")
                    rate = asyncio.run(_pipeline(url, db, limiter, messages))
                    best[(store, limiter)] = max(best.get((store, limiter), 0.0), rate)
    return best


# -- report --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts; no RESULTS.md")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=2,
        help="attempts in flight per worker (default 2: four workers then wait on the sink, "
        "not on this machine's two cores)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="scaling rounds (best of)")
    args, _ = parser.parse_known_args(argv)  # nox passes every bench script the same args
    q = args.quick
    per_worker = 300 if q else 1000
    reserves = 2000 if q else 10_000
    messages = 1000 if q else 3000
    delay = 0.02

    rows: list[tuple[str, str, str]] = []
    load_before = os.getloadavg()[0]
    with PostgresServer() as server:
        print(f"PostgreSQL started in {server.startup_seconds or 0:.2f} s", file=sys.stderr)
        with slow_sink(delay) as slow:
            # rounds interleaved, best of each: other work on the machine comes and goes
            best: dict[int, dict[str, float]] = {}
            for round_ in range(args.rounds):
                for k in (1, 2, 4):
                    print(f"  … {k} worker(s), round {round_ + 1}", file=sys.stderr, flush=True)
                    got = scaling(server, slow, k, per_worker * k, args.concurrency)
                    if got["rate"] > best.get(k, {"rate": 0.0})["rate"]:
                        best[k] = got
            one = best[1]["rate"]
            for k, got in best.items():
                note = (
                    f"{got['rate'] / (k * one):.2f} x {k} x one worker (target >= 0.85); "
                    f"workers' CPU {got['cpu']:.2f} cores"
                )
                label = f"{k} worker(s) x concurrency {args.concurrency}, {per_worker * k} msgs"
                rows.append((label, f"{got['rate']:,.0f} deliveries/s", note))
        print("  … reservations", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            pg_url = server.create_database("bench_limits")
            for label, us in reservation_costs(pg_url, str(Path(tmp) / "r.db"), reserves):
                rows.append((label, f"{us:,.1f} µs / reservation", ""))
        print("  … pipelines", file=sys.stderr, flush=True)
        with sink() as (url, sink_label):
            best = pipelines(url, server, messages)
        for store in ("SQLite", "PostgreSQL"):
            local, shared = best[(store, "local")], best[(store, "store")]
            rows.append(
                (
                    f"pipeline on {store}, {messages} msgs, limiter = local",
                    f"{local:,.0f} deliveries/s",
                    "",
                )
            )
            rows.append(
                (
                    f"pipeline on {store}, {messages} msgs, limiter = store",
                    f"{shared:,.0f} deliveries/s",
                    f"{(shared / local - 1) * 100:+.1f}% vs local",
                )
            )

    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    lines = [
        f"{'measurement'.ljust(width)}  {'figure'.ljust(vwidth)}  ratio / note",
        f"{'-' * width}  {'-' * vwidth}  {'-' * 12}",
    ]
    lines += [f"{a.ljust(width)}  {b.ljust(vwidth)}  {c}".rstrip() for a, b, c in rows]
    # other work on the machine takes cores from the workers: say how busy it was
    lines.append(f"(load average {load_before:.1f} before the run, {os.getloadavg()[0]:.1f} after)")
    print("\n".join(lines))
    if not q:
        write_results(lines, sink_label, delay)
    return 0


def write_results(lines: list[str], sink_label: str, delay: float) -> None:
    """Replace the figures between this script's markers in RESULTS.md (nothing else)."""
    path = HERE / "RESULTS.md"
    text = path.read_text()
    begin, end = MARKERS
    if begin not in text or end not in text:
        print(f"{path}: no {begin} … {end} block; figures not written", file=sys.stderr)
        return
    block = (
        f"{begin}\nMeasured {datetime.date.today().isoformat()} with "
        f"`python benchmarks/bench_workers.py` on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; slow sink: aiohttp answering after "
        f"{delay * 1000:.0f} ms; pipeline sink: {sink_label}.\n\n```\n"
        + "\n".join(lines)
        + f"\n```\n{end}"
    )
    head, rest = text.split(begin, 1)
    path.write_text(head + block + rest.split(end, 1)[1])
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
