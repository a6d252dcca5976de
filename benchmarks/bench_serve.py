"""``notify serve``: POST /v1/events accepted per second with the store on, and latency.

    python benchmarks/bench_serve.py            # 20,000 requests per scenario
    python benchmarks/bench_serve.py --quick    # 3,000
    nox -s bench                                # with the other benchmarks

The server is the real ``notify serve`` in a subprocess on loopback, its store a SQLite
file (WAL, synchronous=NORMAL), with a webhook channel pointed at the benchmarks' sink
(nginx ``return 200``, or the aiohttp fallback). The load generator is an aiohttp
client with ``--concurrency`` requests in flight (16 by default) on keep-alive
connections. Two scenarios: acceptance alone (``--no-worker``: what the API costs),
and with the in-process worker delivering every accepted event on the same event loop
(what one process sustains). Figures are printed, never asserted, and not written to
RESULTS.md (bench_pipeline.py owns it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).parent))
from _sink import sink

CLI = "import sys; from notify_core._cli import main; sys.exit(main())"
BODY = b'{"event": "bench.tick", "data": {"run": 1}, "severity": "info"}'


def start(config: Path, db: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, "serve", "--port", "0", "--config", str(config),
         "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )  # fmt: skip
    stdout = proc.stdout
    assert stdout is not None
    for line in stdout:
        if "listening on " in line:
            # uvicorn's access log goes to stdout: drain it so the pipe never fills
            threading.Thread(target=lambda: [None for _ in stdout], daemon=True).start()
            return proc, line.split("listening on ", 1)[1].split()[0]
    raise SystemExit("notify serve did not start")


async def load(url: str, total: int, concurrency: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    next_index = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one_client() -> None:
            nonlocal next_index, errors
            while next_index < total:
                next_index += 1
                began = time.perf_counter()
                async with session.post(f"{url}/v1/events", data=BODY, headers=headers) as r:
                    await r.read()
                    if r.status != 202:
                        errors += 1
                latencies.append(time.perf_counter() - began)

        # warm-up: connections, the first store writes
        for _ in range(50):
            async with session.post(f"{url}/v1/events", data=BODY, headers=headers) as r:
                await r.read()
        began = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        return time.perf_counter() - began, latencies, errors


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    total = 3000 if args.quick else 20000
    print(f"# notify serve: POST /v1/events, {total} requests, concurrency {args.concurrency}")
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores"
    )
    with sink() as (sink_url, sink_kind), tempfile.TemporaryDirectory() as tmp:
        print(f"# sink: {sink_kind}")
        config = Path(tmp) / "notify.toml"
        config.write_text(
            f'[channels.sink]\nprovider = "webhook"\nurl = "{sink_url}/hook"\nevents = ["*"]\n'
            "rate = { per_second = 100000, burst = 1000 }\n"
        )
        for label, extra in (
            ("accept only (--no-worker)", ["--no-worker"]),
            ("accept + deliver", []),
        ):
            db = Path(tmp) / f"{len(label)}.db"
            proc, url = start(config, db, *extra)
            try:
                seconds, latencies, errors = asyncio.run(load(url, total, args.concurrency))
            finally:
                proc.terminate()
                proc.wait(60)
            con = sqlite3.connect(db)
            stored = con.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
            done = con.execute(
                "SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'"
            ).fetchone()[0]
            con.close()
            p50, p99 = pct(latencies, 0.5), pct(latencies, 0.99)
            mean = statistics.fmean(latencies) * 1000
            print(
                f"{label:<28} {total / seconds:>8,.0f} req/s   p50 {p50:6.2f} ms"
                f"   p99 {p99:6.2f} ms   mean {mean:6.2f} ms   errors {errors}"
                f"   stored {stored}   delivered by stop {done}"
            )


if __name__ == "__main__":
    main()
