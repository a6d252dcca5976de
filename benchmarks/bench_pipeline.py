"""notify against its peers, every row in one run: throughput, the CLI, workers, latency.

    python benchmarks/bench_pipeline.py            # 3 interleaved rounds; writes RESULTS.md
    python benchmarks/bench_pipeline.py --quick    # 1 round, smaller counts, no RESULTS.md
    nox -s bench                                   # the same, in a fresh environment

Every measurement runs once per round, the rounds one after another (A B C … A B C …),
and the medians are reported, so a ratio compares figures taken minutes apart on the
same machine under the same load, not runs of different days. The peers, on the same
loopback sink (nginx ``return 200``; see ``_sink.py``) and the same payload:

- raw aiohttp (a ``ClientSession`` loop at concurrency 10, 50 and 100; the best is
  the Python client's limit here) and raw httpx (``AsyncClient``, concurrency 50);
- Apprise (``json://``, the library sequentially, and its CLI).

The CLI rows time whole processes (start-up included), paired with Apprise's, and
report peak RSS from GNU time. Sources are byte-compiled first, as a wheel install
leaves them (an editable install under ``PYTHONDONTWRITEBYTECODE`` would compile every
module on every run). The worker rows drain a store filled as ``notify send --wait 0``
fills it: against nginx (throughput, and peak RSS with 100,000 pending), and one
against two workers on one SQLite file against a sink that answers after 20 ms (so
the figure is the store's sharing, not these two cores). Figures are printed, never
asserted: this machine's load changes them; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _sink import sink, slow_sink

from notify_core import Channel, Message, Notifier, Rate

HERE = Path(__file__).parent
ROOT = HERE.parent
TITLE = "Training complete: resnet50-sweep-17"
BODY = "Validation accuracy 0.9731 after 90 epochs; checkpoint saved to s3://models/r50/17."
FIELDS = {"accuracy": "0.9731", "loss": "0.0812", "epochs": "90", "duration": "3h12m"}
UNLIMITED = Rate(per_second=1e9, burst=10**9)
ANALYSIS_MARKER = "<!-- analysis: kept across runs -->"
CLI = [sys.executable, "-c", "import sys; from notify_core._cli import main; sys.exit(main())"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}


def message(i: int) -> Message:
    return Message(title=f"{TITLE} #{i}", body=BODY, event="training.complete", fields=FIELDS)


def payload_bytes(i: int) -> bytes:
    return json.dumps({"title": f"{TITLE} #{i}", "body": BODY, "fields": FIELDS}).encode()


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (5 min: {five:.1f})"


# -- the pipeline ------------------------------------------------------------------------


async def _pipeline(url: str, messages: int, channels: int, db: Path, bulk: bool) -> float:
    chans = [
        Channel(name=f"c{i}", provider="webhook", url=f"{url}/c{i}", rate=UNLIMITED)
        for i in range(channels)
    ]
    async with Notifier(channels=chans, db=db, env={}, concurrency=50) as notifier:
        await notifier.asend(message(-1), wait=30)  # warm: clients, plugins, store
        start = time.perf_counter()
        if bulk:
            results = await notifier.asend_many([message(i) for i in range(messages)], wait=60)
        else:
            results = await asyncio.gather(
                *(notifier.asend(message(i), wait=60) for i in range(messages))
            )
        elapsed = time.perf_counter() - start
    delivered = sum(d.status == "delivered" for r in results for d in r.deliveries)
    if delivered != messages * channels:
        raise RuntimeError(f"only {delivered} of {messages * channels} delivered")
    return delivered / elapsed


def pipeline(url: str, messages: int, channels: int, *, bulk: bool = False) -> float:
    """Deliveries/s through the whole pipeline, durable store on (SQLite, WAL)."""
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_pipeline(url, messages, channels, Path(tmp) / "bench.db", bulk))


# -- the raw clients ---------------------------------------------------------------------


async def _raw_httpx(url: str, count: int, concurrency: int) -> float:
    import httpx

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency)) as client:
        await client.post(f"{url}/raw", content=payload_bytes(0))
        next_i = 0

        async def worker() -> None:
            nonlocal next_i
            while next_i < count:
                i = next_i
                next_i += 1
                response = await client.post(
                    f"{url}/raw",
                    content=payload_bytes(i),
                    headers={"Content-Type": "application/json"},
                )
                response.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - start)


def raw_httpx(url: str, count: int, concurrency: int) -> float:
    return asyncio.run(_raw_httpx(url, count, concurrency))


async def _raw_aiohttp(url: str, count: int, concurrency: int) -> float:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.post(f"{url}/raw", data=payload_bytes(0)) as answer:
            await answer.read()
        next_i = 0

        async def worker() -> None:
            nonlocal next_i
            while next_i < count:
                i = next_i
                next_i += 1
                async with session.post(
                    f"{url}/raw",
                    data=payload_bytes(i),
                    headers={"Content-Type": "application/json"},
                ) as answer:
                    await answer.read()
                    answer.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - start)


def raw_aiohttp(url: str, count: int) -> dict[int, float]:
    """Requests/s of a bare aiohttp loop at three concurrencies (the best is the limit)."""
    return {c: asyncio.run(_raw_aiohttp(url, count, c)) for c in (10, 50, 100)}


# -- Apprise, the library ----------------------------------------------------------------


def apprise_rate(url: str, count: int) -> float | None:
    try:
        import apprise
    except ImportError:
        return None
    target = apprise.Apprise()
    target.add(url.replace("http://", "json://") + "/apprise")
    target.notify(body=BODY, title=TITLE)
    start = time.perf_counter()
    for i in range(count):
        if not target.notify(body=BODY, title=f"{TITLE} #{i}"):
            raise RuntimeError("apprise failed to notify")
    return count / (time.perf_counter() - start)


# -- one-shot commands -------------------------------------------------------------------


def timed_run(cmd: Sequence[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command, from its start to its exit.

    The peak comes from GNU time (Debian's ``time``): a forked child's own
    ``ru_maxrss`` counts the parent's pages from before ``exec``.
    """
    gnu_time = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
    with tempfile.NamedTemporaryFile("r") as peak:
        full = [gnu_time, "-f", "%M", "-o", peak.name, *cmd] if gnu_time else list(cmd)
        start = time.perf_counter()
        proc = subprocess.run(
            full, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.decode()[:300]}")
        text = peak.read().strip().splitlines()
    return wall, (int(text[-1]) / 1024 if gnu_time and text else float("nan"))


def compile_sources() -> None:
    """Byte-compile notify's sources, as ``pip install`` of a wheel does."""
    for src in [ROOT / "core" / "src", *ROOT.glob("plugins/*/src"), *ROOT.glob("examples/*/src")]:
        compileall.compile_dir(src, quiet=1)


def cli_pairs(url: str) -> dict[str, tuple[list[str], list[str] | None]]:
    """Each CLI row: notify's command and Apprise's, doing the same thing."""
    bindir = Path(sys.executable).parent
    notify = str(bindir / "notify")
    apprise_cli = shutil.which("apprise", path=str(bindir)) or shutil.which("apprise")
    apprise_send = (
        [apprise_cli, "-t", TITLE, "-b", BODY, url.replace("http://", "json://") + "/a"]
        if apprise_cli
        else None
    )
    fg = [notify, "send", "--url", f"{url}/cli", "--provider", "webhook", "-t", TITLE]
    return {
        "notify --version": ([notify, "--version"], apprise_cli and [apprise_cli, "--version"]),
        "notify --help": ([notify, "--help"], apprise_cli and [apprise_cli, "--help"]),
        "notify send --url (foreground)": ([*fg, "-b", BODY, "--db", "fg.db"], apprise_send),
        "notify send --wait 0 (enqueue only)": (
            [notify, "send", "--to", "sink", "-t", TITLE, "-b", BODY, "--wait", "0"],
            apprise_send,
        ),
    }


def one_shot(url: str, cwd: Path, runs: int) -> dict[str, dict[str, list[float]]]:
    """Every CLI pair, ``runs`` times, notify and Apprise in turn (A B A B …)."""
    out: dict[str, dict[str, list[float]]] = {}
    for name, (ours, theirs) in cli_pairs(url).items():
        row = out[name] = {"ours": [], "ours_rss": [], "theirs": [], "theirs_rss": []}
        timed_run(ours, cwd)  # the page cache, the entry-point cache
        if theirs:
            timed_run(theirs, cwd)
        for _ in range(runs):
            wall, rss = timed_run(ours, cwd)
            row["ours"].append(wall)
            row["ours_rss"].append(rss)
            if theirs:
                wall, rss = timed_run(theirs, cwd)
                row["theirs"].append(wall)
                row["theirs_rss"].append(rss)
    return out


# -- workers -----------------------------------------------------------------------------


def fill(db: Path, url: str, pending: int) -> None:
    """``pending`` deliveries to ``url``, as ``notify send --wait 0`` leaves them."""
    with Notifier(
        channels=[Channel(name="sink", provider="webhook", url=url, rate=UNLIMITED)],
        db=db,
        env={},
    ) as notifier:
        batch = 10_000
        for start in range(0, pending, batch):
            count = min(batch, pending - start)
            notifier.send_many([message(start + i) for i in range(count)], wait=0)


def worker_config(cwd: Path, url: str) -> None:
    (cwd / "notify.toml").write_text(
        f'[notify]\ndb = "w.db"\n[channels.sink]\nprovider = "webhook"\n'
        f'url = "{url}"\nrate = {{ per_second = 1e9, burst = 1000000000 }}\n'
    )


def drained(cwd: Path, pending: int) -> float:
    """Deliveries/s over the span of the workers' attempts (from the store's log)."""
    import sqlite3

    with sqlite3.connect(cwd / "w.db") as db:
        delivered = db.execute("SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'")
        if delivered.fetchone()[0] != pending:
            raise RuntimeError("the workers left deliveries undelivered")
        span = "SELECT MIN(started), MAX(started + duration) FROM attempts"
        first, last = db.execute(span).fetchone()
    return pending / (last - first)


def worker_memory(url: str, pending: int) -> tuple[float, float]:
    """Peak RSS (MB) and deliveries/s of one ``notify worker --once`` draining ``pending``."""
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        worker_config(cwd, f"{url}/worker")
        fill(cwd / "w.db", f"{url}/worker", pending)
        notify = str(Path(sys.executable).parent / "notify")
        _, rss = timed_run([notify, "worker", "--once", "--concurrency", "50"], cwd)
        return rss, drained(cwd, pending)


def worker_scaling(url: str, workers: int, pending: int, concurrency: int) -> float:
    """Deliveries/s of ``workers`` processes draining one SQLite file, started together."""
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        worker_config(cwd, f"{url}/scale")
        fill(cwd / "w.db", f"{url}/scale", pending)
        procs = [
            subprocess.Popen(
                [*CLI, "worker", "--once", "--concurrency", str(concurrency)],
                cwd=cwd,
                env=ENV,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for _ in range(workers)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=600)
            if proc.returncode != 0:
                raise RuntimeError(f"worker exited {proc.returncode}: {err.decode()[:300]}")
        return drained(cwd, pending)


# -- latency -----------------------------------------------------------------------------


async def _paced(rate: float, count: int, one: Callable[[int], Any]) -> list[float]:
    latencies: list[float] = []

    async def timed(i: int) -> None:
        start = time.perf_counter()
        await one(i)
        latencies.append(time.perf_counter() - start)

    tasks = []
    start = time.perf_counter()
    for i in range(count):
        tasks.append(asyncio.create_task(timed(i)))
        await asyncio.sleep(max(0.0, start + (i + 1) / rate - time.perf_counter()))
    await asyncio.gather(*tasks)
    return latencies


async def _latency(url: str, rate: float, count: int, db: Path) -> list[float]:
    chan = Channel(name="lat", provider="webhook", url=f"{url}/lat", rate=UNLIMITED)
    async with Notifier(channels=[chan], db=db, env={}) as notifier:
        await notifier.asend(message(-1))

        async def one(i: int) -> None:
            result = await notifier.asend(message(i))
            assert result.ok

        return await _paced(rate, count, one)


async def _raw_latency(url: str, rate: float, count: int) -> list[float]:
    import httpx

    async with httpx.AsyncClient() as client:
        await client.post(f"{url}/raw", content=payload_bytes(0))

        async def one(i: int) -> None:
            await client.post(f"{url}/raw", content=payload_bytes(i))

        return await _paced(rate, count, one)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(url: str, count: int) -> dict[str, float]:
    """send() to answer at 100 msg/s, notify's and a raw httpx client's, p50 and p99."""
    with tempfile.TemporaryDirectory() as tmp:
        ours = asyncio.run(_latency(url, 100.0, count, Path(tmp) / "lat.db"))
    raw = asyncio.run(_raw_latency(url, 100.0, count))
    return {
        "p50": percentile(ours, 0.5),
        "p99": percentile(ours, 0.99),
        "raw_p50": percentile(raw, 0.5),
        "raw_p99": percentile(raw, 0.99),
    }


# -- pacing ------------------------------------------------------------------------------


async def _pacing(url: str, per_second: float, seconds: float, db: Path) -> float:
    chan = Channel(
        name="paced",
        provider="webhook",
        url=f"{url}/paced",
        rate=Rate(per_second=per_second, burst=1),
    )
    count = int(per_second * seconds) + 1
    async with Notifier(channels=[chan], db=db, env={}) as notifier:
        results = await asyncio.gather(
            *(notifier.asend(message(i), wait=seconds * 3) for i in range(count))
        )
        starts = sorted(
            a.started for r in results for d in r.deliveries for a in notifier.store.attempts(d.id)
        )
    return (len(starts) - 1) / (starts[-1] - starts[0])


def pacing(url: str, per_second: float, seconds: float) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_pacing(url, per_second, seconds, Path(tmp) / "pace.db"))


# -- the run -----------------------------------------------------------------------------


def timed(label: str, fn: Callable[[], Any]) -> Any:
    print(f"  … {label}", file=sys.stderr, flush=True)
    return fn()


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round, smaller counts")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (3)")
    args = parser.parse_args(argv)
    q = args.quick
    rounds = args.rounds or (1 if q else 3)
    n_single, n_multi = (1000, 100) if q else (5000, 500)
    raw_count, apprise_count = (1000, 300) if q else (5000, 1000)
    drain, scale, pending = (5000, 1000, 20_000) if q else (20_000, 4000, 100_000)
    cli_runs, lat_count = (3, 300) if q else (5, 1000)

    compile_sources()
    before = load_average()
    started = time.monotonic()
    per: dict[str, list[Any]] = {}

    def keep(name: str, value: Any) -> None:
        per.setdefault(name, []).append(value)

    with sink() as (url, sink_label), slow_sink(0.02) as slow_url:
        print(f"sink: {sink_label} at {url}; slow sink at {slow_url}", file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            cwd = Path(tmp)
            (cwd / "notify.toml").write_text(
                f'[channels.sink]\nprovider = "webhook"\nurl = "{url}/cli"\n'
            )
            for r in range(1, rounds + 1):
                print(f"round {r} of {rounds} (load {load_average()})", file=sys.stderr)
                keep("single", timed("pipeline 1", lambda: pipeline(url, n_single, 1)))
                keep("multi", timed("pipeline 10", lambda: pipeline(url, n_multi, 10)))
                keep("bulk", timed("send_many", lambda: pipeline(url, n_single, 1, bulk=True)))
                keep("aiohttp", timed("raw aiohttp", lambda: raw_aiohttp(url, raw_count)))
                keep("httpx", timed("raw httpx c=50", lambda: raw_httpx(url, raw_count // 2, 50)))
                keep("apprise", timed("apprise", lambda: apprise_rate(url, apprise_count)))
                keep("cli", timed("one-shot CLI", lambda: one_shot(url, cwd, cli_runs)))
                keep("drain", timed("worker --once", lambda: worker_memory(url, drain)[1]))
                for k in (1, 2):
                    keep(
                        f"scale{k}",
                        timed(
                            f"{k} worker(s), 20 ms sink",
                            lambda k=k: worker_scaling(slow_url, k, scale, 8),
                        ),
                    )
                keep("latency", timed("latency at 100/s", lambda: latency(url, lat_count)))
        rss, _ = timed(f"worker with {pending:,} pending", lambda: worker_memory(url, pending))
        paced = {
            r: timed(f"pacing {r}/s", lambda r=r: pacing(url, r, 2 if q else 5))
            for r in (1.0, 10.0, 100.0)
        }
    after = load_average()
    lines = report(per, rss, pending, paced, rounds)
    lines.append(
        f"({rounds} interleaved round(s), medians; {time.monotonic() - started:.0f} s; "
        f"load average {before} before, {after} after; 2 workers of the drain at "
        f"concurrency 8 against the 20 ms sink)"
    )
    print("\n".join(lines))
    if not q:
        write_results(lines, sink_label)
    return 0


def report(
    per: dict[str, list[Any]], rss: float, pending: int, paced: dict[float, float], rounds: int
) -> list[str]:
    rows: list[tuple[str, str, str, str]] = []
    best = {c: median([r[c] for r in per["aiohttp"]]) for c in (10, 50, 100)}
    c_best = max(best, key=lambda c: best[c])
    aio = best[c_best]
    httpx50 = median(per["httpx"])
    appr = median([a for a in per["apprise"] if a is not None])
    for key, label in (
        ("single", "pipeline 5,000 x 1, store on"),
        ("multi", "pipeline 500 x 10, store on"),
        ("bulk", "send_many 5,000 x 1, store on"),
    ):
        ours = median(per[key])
        rows.append(
            (
                label,
                f"{ours:,.0f} /s",
                f"raw aiohttp C={c_best} {aio:,.0f} /s",
                f"{ours / aio:.2f}x aiohttp (target >= 0.5); {ours / appr:.1f}x Apprise "
                f"{appr:,.0f} /s; {ours / httpx50:.1f}x raw httpx C=50 {httpx50:,.0f} /s",
            )
        )
    targets = {
        "notify --version": 0.8,
        "notify --help": 0.8,
        "notify send --url (foreground)": 1.0,
        "notify send --wait 0 (enqueue only)": 0.4,
    }
    peer_name = {
        "notify --version": "apprise --version",
        "notify --help": "apprise --help",
    }
    for name, target in targets.items():
        ours = [w for rnd in per["cli"] for w in rnd[name]["ours"]]
        theirs = [w for rnd in per["cli"] for w in rnd[name]["theirs"]]
        rss_ours = max(m for rnd in per["cli"] for m in rnd[name]["ours_rss"])
        if theirs:
            ratio = median([a / b for a, b in zip(ours, theirs, strict=True)])
            rows.append(
                (
                    name,
                    f"{median(ours) * 1000:,.0f} ms, {rss_ours:,.0f} MB",
                    f"{peer_name.get(name, 'apprise -t … json://')} "
                    f"{median(theirs) * 1000:,.0f} ms",
                    f"{ratio:.2f}x (paired; target <= {target})",
                )
            )
        else:
            rows.append((name, f"{median(ours) * 1000:,.0f} ms", "apprise not installed", ""))
    one, two = median(per["scale1"]), median(per["scale2"])
    rows.append(
        (
            "notify worker --once, draining (nginx)",
            f"{median(per['drain']):,.0f} /s",
            "",
            f"peak RSS {rss:,.0f} MB with {pending:,} pending (target <= 150)",
        )
    )
    rows.append(
        (
            "2 workers on one SQLite file (20 ms sink)",
            f"{two:,.0f} /s",
            f"1 worker {one:,.0f} /s",
            f"{two / one:.2f}x (target >= 1.8)",
        )
    )
    lat = per["latency"]
    p99 = median([x["p99"] for x in lat])
    raw99 = median([x["raw_p99"] for x in lat])
    rows.append(
        (
            "added latency at 100 msg/s",
            f"p50 {median([x['p50'] for x in lat]) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms",
            f"raw httpx p50 {median([x['raw_p50'] for x in lat]) * 1000:.1f} ms, "
            f"p99 {raw99 * 1000:.1f} ms",
            f"p99 {p99 / raw99:.2f}x raw (target <= 1)",
        )
    )
    for r, achieved in paced.items():
        rows.append(
            (
                f"pacing at {r:g}/s",
                f"{achieved:.2f} /s",
                "",
                f"{(achieved / r - 1) * 100:+.1f}% (target within 5%)",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    head = ("measurement", "notify", "peer", "ratio")
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, [*widths, 0], strict=False)).rstrip()]
    lines.append("  ".join("-" * w for w in [*widths, 12]))
    for row in rows:
        lines.append(
            "  ".join(c.ljust(w) for c, w in zip(row, [*widths, 0], strict=False)).rstrip()
        )
    return lines


def write_results(lines: list[str], sink_label: str) -> None:
    import httpx

    try:
        import apprise

        apprise_version = apprise.__version__
    except ImportError:
        apprise_version = "not installed"
    import aiohttp
    import typer

    from notify_core import __version__

    text = f"""# Benchmark results

Measured {datetime.date.today().isoformat()} with

    python benchmarks/bench_pipeline.py

on {os.cpu_count()} cores ({platform.processor() or platform.machine()}), Python
{platform.python_version()}, {platform.system()} {platform.release()}; sink: {sink_label};
notify-core {__version__}, typer {typer.__version__}, httpx {httpx.__version__},
aiohttp {aiohttp.__version__}, Apprise {apprise_version}.
Ratios are of figures measured in the same run.

```
{chr(10).join(lines)}
```
"""
    # the hand-written analysis below the marker survives a new run (update its figures)
    path = HERE / "RESULTS.md"
    old = path.read_text() if path.exists() else ""
    if ANALYSIS_MARKER in old:
        text += "\n" + ANALYSIS_MARKER + old.split(ANALYSIS_MARKER, 1)[1]
    path.write_text(text)
    print(f"wrote {HERE / 'RESULTS.md'}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
