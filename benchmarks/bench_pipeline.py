"""notify's throughput, latency, memory and pacing, side by side with the alternatives.

    python benchmarks/bench_pipeline.py            # full run, writes benchmarks/RESULTS.md
    python benchmarks/bench_pipeline.py --quick    # smaller counts, no RESULTS.md
    nox -s bench                                   # the same, in a fresh environment

Everything sends to one loopback sink (nginx ``return 200``; see ``_sink.py``) with the
same payload. Figures are printed, never asserted: this machine's load changes them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
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

from _sink import sink

from notify_core import Channel, Message, Notifier, Rate

HERE = Path(__file__).parent
TITLE = "Training complete: resnet50-sweep-17"
BODY = "Validation accuracy 0.9731 after 90 epochs; checkpoint saved to s3://models/r50/17."
FIELDS = {"accuracy": "0.9731", "loss": "0.0812", "epochs": "90", "duration": "3h12m"}
UNLIMITED = Rate(per_second=1e9, burst=10**9)
ANALYSIS_MARKER = "<!-- analysis: kept across runs -->"


def message(i: int) -> Message:
    return Message(title=f"{TITLE} #{i}", body=BODY, event="training.complete", fields=FIELDS)


def payload_bytes(i: int) -> bytes:
    import json

    return json.dumps({"title": f"{TITLE} #{i}", "body": BODY, "fields": FIELDS}).encode()


# -- 1. the pipeline ---------------------------------------------------------------------


async def _pipeline(url: str, messages: int, channels: int, db: Path) -> float:
    chans = [
        Channel(name=f"c{i}", provider="webhook", url=f"{url}/c{i}", rate=UNLIMITED)
        for i in range(channels)
    ]
    async with Notifier(channels=chans, db=db, env={}, concurrency=50) as notifier:
        await notifier.asend(message(-1), wait=30)  # warm: clients, plugins, store
        start = time.perf_counter()
        results = await asyncio.gather(
            *(notifier.asend(message(i), wait=60) for i in range(messages))
        )
        elapsed = time.perf_counter() - start
    delivered = sum(d.status == "delivered" for r in results for d in r.deliveries)
    if delivered != messages * channels:
        raise RuntimeError(f"only {delivered} of {messages * channels} delivered")
    return delivered / elapsed


def pipeline(url: str, messages: int, channels: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_pipeline(url, messages, channels, Path(tmp) / "bench.db"))


# -- 2. raw httpx ------------------------------------------------------------------------


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


# -- 3. Apprise --------------------------------------------------------------------------


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


# -- 4. one-shot CLI ---------------------------------------------------------------------


def _run(cmd: Sequence[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command.

    The peak comes from GNU time (Debian's ``time``): a forked child's own
    ``ru_maxrss`` counts the parent's pages from before ``exec``, so this benchmark's
    size showed up as every command's.
    """
    gnu_time = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
    with tempfile.NamedTemporaryFile("r") as peak:
        full = [gnu_time, "-f", "%M", "-o", peak.name, *cmd] if gnu_time else list(cmd)
        start = time.perf_counter()
        proc = subprocess.run(
            full, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.decode()[:300]}")
        text = peak.read().strip().splitlines()
    return wall, (int(text[-1]) / 1024 if gnu_time and text else float("nan"))


def one_shot(url: str, runs: int) -> dict[str, tuple[float, float]]:
    bindir = Path(sys.executable).parent
    notify = str(bindir / "notify")
    apprise_cli = shutil.which("apprise", path=str(bindir)) or shutil.which("apprise")
    out: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / "notify.toml").write_text(
            f'[channels.sink]\nprovider = "webhook"\nurl = "{url}/cli"\n'
        )
        commands = {
            "notify send --url (foreground)": [
                notify,
                "send",
                "--url",
                f"{url}/cli",
                "--provider",
                "webhook",
                "-t",
                TITLE,
                "-b",
                BODY,
                "--db",
                "fg.db",
            ],
            "notify send --wait 0 (enqueue only)": [
                notify,
                "send",
                "--to",
                "sink",
                "-t",
                TITLE,
                "-b",
                BODY,
                "--wait",
                "0",
            ],
        }
        if apprise_cli:
            commands["apprise -t … json://"] = [
                apprise_cli,
                "-t",
                TITLE,
                "-b",
                BODY,
                url.replace("http://", "json://") + "/a",
            ]
        for name, cmd in commands.items():
            _run(cmd, cwd)  # warm the page cache
            runs_ = [_run(cmd, cwd) for _ in range(runs)]
            out[name] = (statistics.median(w for w, _ in runs_), max(m for _, m in runs_))
    return out


# -- 5. worker memory --------------------------------------------------------------------


def worker_memory(url: str, pending: int) -> tuple[float, float, float]:
    """Peak RSS (MB), wall seconds and deliveries/s of `notify worker --once`."""
    from notify_core import Providers, message_to_json
    from notify_core._dispatch import payload_record
    from notify_core._masking import Masker
    from notify_core._store import NewDelivery, Store, new_id

    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / "notify.toml").write_text(
            f'[notify]\ndb = "w.db"\n[channels.sink]\nprovider = "webhook"\n'
            f'url = "{url}/worker"\nrate = {{ per_second = 1e9, burst = 1000000000 }}\n'
        )
        providers = Providers.discover()
        channel = Channel(name="sink", provider="webhook", url=f"{url}/worker")
        store = Store(cwd / "w.db")
        msg = message(0)
        body = message_to_json(msg)
        payload = payload_record(providers.build(channel, msg, "x"), Masker())
        batch = 10_000
        for start in range(0, pending, batch):  # setup: rows as `notify send --wait 0` writes
            store.add(
                [
                    NewDelivery(
                        id=new_id(),
                        message_id=new_id(),
                        event=msg.event,
                        severity="info",
                        tenant=None,
                        channel="sink",
                        provider="webhook",
                        target=f"{url}/worker",
                        message=body,
                        payload=payload,
                        status="pending",
                    )
                    for _ in range(min(batch, pending - start))
                ]
            )
        store.close()
        wall, rss = _run(
            [
                str(Path(sys.executable).parent / "notify"),
                "worker",
                "--once",
                "--concurrency",
                "50",
            ],
            cwd,
        )
        check = Store(cwd / "w.db").counts()
        if check.get("delivered") != pending:
            raise RuntimeError(f"worker left {check}")
    return rss, wall, pending / wall


# -- 6. latency --------------------------------------------------------------------------


async def _latency(url: str, rate: float, count: int, db: Path) -> list[float]:
    chan = Channel(name="lat", provider="webhook", url=f"{url}/lat", rate=UNLIMITED)
    async with Notifier(channels=[chan], db=db, env={}) as notifier:
        await notifier.asend(message(-1))
        latencies: list[float] = []

        async def one(i: int) -> None:
            start = time.perf_counter()
            result = await notifier.asend(message(i))
            latencies.append(time.perf_counter() - start)
            assert result.ok

        tasks = []
        start = time.perf_counter()
        for i in range(count):
            tasks.append(asyncio.create_task(one(i)))
            await asyncio.sleep(max(0.0, start + (i + 1) / rate - time.perf_counter()))
        await asyncio.gather(*tasks)
    return latencies


async def _raw_latency(url: str, rate: float, count: int) -> list[float]:
    import httpx

    async with httpx.AsyncClient() as client:
        await client.post(f"{url}/raw", content=payload_bytes(0))
        latencies: list[float] = []

        async def one(i: int) -> None:
            start = time.perf_counter()
            await client.post(f"{url}/raw", content=payload_bytes(i))
            latencies.append(time.perf_counter() - start)

        tasks = []
        start = time.perf_counter()
        for i in range(count):
            tasks.append(asyncio.create_task(one(i)))
            await asyncio.sleep(max(0.0, start + (i + 1) / rate - time.perf_counter()))
        await asyncio.gather(*tasks)
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(url: str, count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        ours = asyncio.run(_latency(url, 100.0, count, Path(tmp) / "lat.db"))
    raw = asyncio.run(_raw_latency(url, 100.0, count))
    return {
        "p50": percentile(ours, 0.5),
        "p99": percentile(ours, 0.99),
        "raw_p50": percentile(raw, 0.5),
        "raw_p99": percentile(raw, 0.99),
    }


# -- 7. pacing ---------------------------------------------------------------------------


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


# -- payload builds ----------------------------------------------------------------------


def build_times(repeat: int) -> dict[str, float]:
    from notify_core import Action, Providers

    providers = Providers.discover()
    rich = Message(
        title=TITLE,
        body=BODY * 3,
        event="training.complete",
        severity="error",
        fields={f"metric {i}": f"{i / 7:.4f}" for i in range(8)},
        actions=[
            Action("View results", "https://ml.example.com/runs/17"),
            Action("Logs", "https://ml.example.com/runs/17/logs"),
        ],
    )
    channels = {
        "webhook": Channel(name="w", provider="webhook", url="https://example.com/hook"),
        "slack": Channel(
            name="s",
            provider="slack",
            url="https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXX",
        ),
        "teams": Channel(
            name="t",
            provider="teams",
            url="https://prod-00.westeurope.logic.azure.com:443/workflows/abc/"
            "triggers/manual/paths/invoke?api-version=2016-06-01&sig=XYZ123",
        ),
        "pagerduty": Channel(name="p", provider="pagerduty", options={"routing_key": "R" * 32}),
    }
    out = {}
    for name, channel in channels.items():
        if name not in providers.installed:
            continue
        providers.build(channel, rich, "id")
        start = time.perf_counter()
        for _ in range(repeat):
            providers.build(channel, rich, "id")
        out[name] = (time.perf_counter() - start) / repeat * 1e6
    return out


# -- report ------------------------------------------------------------------------------


def timed(label: str, fn: Callable[[], Any]) -> Any:
    print(f"  … {label}", file=sys.stderr, flush=True)
    return fn()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts; no RESULTS.md")
    args = parser.parse_args(argv)
    q = args.quick
    n_single, n_multi = (1000, 100) if q else (5000, 500)
    raw_count, apprise_count = (500, 300) if q else (2000, 1000)
    pending = 20_000 if q else 100_000

    with sink() as (url, sink_label):
        print(f"sink: {sink_label} at {url}", file=sys.stderr)
        single = timed(f"pipeline {n_single} x 1", lambda: pipeline(url, n_single, 1))
        multi = timed(f"pipeline {n_multi} x 10", lambda: pipeline(url, n_multi, 10))
        raw1 = timed("raw httpx c=1", lambda: raw_httpx(url, raw_count, 1))
        raw50 = timed("raw httpx c=50", lambda: raw_httpx(url, raw_count, 50))
        appr = timed("apprise", lambda: apprise_rate(url, apprise_count))
        cli = timed("one-shot CLI", lambda: one_shot(url, 3 if q else 7))
        mem = timed(f"worker with {pending} pending", lambda: worker_memory(url, pending))
        lat = timed("latency at 100/s", lambda: latency(url, 300 if q else 1000))
        paced = {
            r: timed(f"pacing {r}/s", lambda r=r: pacing(url, r, 2 if q else 5))
            for r in (1.0, 10.0, 100.0)
        }
        builds = timed("payload builds", lambda: build_times(500 if q else 2000))

    rows: list[tuple[str, str, str]] = []
    best = max(single, multi)
    rows.append((f"pipeline, {n_single} msgs x 1 channel (store on)", f"{single:,.0f} /s", ""))
    rows.append((f"pipeline, {n_multi} msgs x 10 channels (store on)", f"{multi:,.0f} /s", ""))
    rows.append(("raw httpx AsyncClient, concurrency 1", f"{raw1:,.0f} /s", ""))
    rows.append(
        (
            "raw httpx AsyncClient, concurrency 50",
            f"{raw50:,.0f} /s",
            f"pipeline {single / raw50:.1f}x (target >= 3x)",
        )
    )
    if appr:
        rows.append(
            (
                "Apprise json://, sequential",
                f"{appr:,.0f} /s",
                f"pipeline {single / appr:.1f}x (target >= 3x)",
            )
        )
    ap = cli.get("apprise -t … json://")
    for name, (wall, rss) in cli.items():
        ratio = f"{wall / ap[0]:.2f}x Apprise" if ap and "apprise" not in name else ""
        rows.append((name, f"{wall * 1000:,.0f} ms, {rss:,.0f} MB peak", ratio))
    rows.append(
        (
            f"notify worker --once, {pending:,} pending",
            f"{mem[0]:,.0f} MB peak RSS",
            f"{mem[2]:,.0f} /s drained (target <= 150 MB)",
        )
    )
    rows.append(
        (
            "added latency at 100 msg/s (send() -> answer)",
            f"p50 {lat['p50'] * 1000:.1f} ms, p99 {lat['p99'] * 1000:.1f} ms",
            f"raw httpx p50 {lat['raw_p50'] * 1000:.1f} ms, p99 "
            f"{lat['raw_p99'] * 1000:.1f} ms (target p99 <= 20 ms)",
        )
    )
    for r, achieved in paced.items():
        rows.append(
            (
                f"token bucket at {r:g}/s",
                f"{achieved:.2f} /s",
                f"{(achieved / r - 1) * 100:+.1f}% (target within 5%)",
            )
        )
    for provider, us in builds.items():
        rows.append((f"build_payload {provider}, rich message", f"{us:,.0f} µs", ""))
    del best

    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    lines = [
        f"{'measurement'.ljust(width)}  {'figure'.ljust(vwidth)}  ratio / note",
        f"{'-' * width}  {'-' * vwidth}  {'-' * 12}",
    ]
    lines += [f"{a.ljust(width)}  {b.ljust(vwidth)}  {c}".rstrip() for a, b, c in rows]
    print("\n".join(lines))
    if not q:
        write_results(lines, sink_label)
    return 0


def write_results(lines: list[str], sink_label: str) -> None:
    import httpx

    try:
        import apprise

        apprise_version = apprise.__version__
    except ImportError:
        apprise_version = "not installed"
    from notify_core import __version__

    text = f"""# Benchmark results

Measured {datetime.date.today().isoformat()} with

    python benchmarks/bench_pipeline.py

on {os.cpu_count()} cores ({platform.processor() or platform.machine()}), Python
{platform.python_version()}, {platform.system()} {platform.release()}; sink: {sink_label};
notify-core {__version__}, httpx {httpx.__version__}, Apprise {apprise_version}.
Figures vary with the machine's load; ratios measured in one run are what matter.

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
