"""What grouping costs: accepting into a group, flushing a big group, the worker's check.

    python benchmarks/bench_grouping.py            # full counts
    python benchmarks/bench_grouping.py --quick    # smaller counts
    nox -s bench                                   # with the other benchmarks

No network: the store is a real SQLite file in a temporary folder, summaries are built
and written but not sent. Figures are printed, never asserted, and not written to
RESULTS.md (bench_pipeline.py owns it): this machine's load changes them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from notify_core import Channel, Message, Notifier, Providers, parse_config
from notify_core._grouping import Flusher
from notify_core.testing._groups import group_summary

PROVIDERS = Providers.discover()


def row(name: str, count: int, seconds: float, note: str = "") -> None:
    print(f"{name:<56} {count / seconds:>10,.0f} /s {seconds / count * 1e6:>10.1f} µs  {note}")


def notifier(folder: Path, policy: dict[str, object]) -> Notifier:
    channel = {"provider": "webhook", "url": "http://127.0.0.1:9/hook", **policy}
    config = parse_config({"channels": {"ops": channel}}, PROVIDERS, env={})
    return Notifier(config=config, db=folder / "bench.db", providers=PROVIDERS, env={})


def accept(folder: Path, label: str, policy: dict[str, object], count: int, keys: int) -> None:
    """``count`` sends (``--wait 0``) to one channel; ``keys`` distinct dedup keys."""
    with notifier(folder, policy) as n:
        n.send(Message(title="warm-up", event="check.failed"), wait=0)
        began = time.perf_counter()
        for i in range(count):
            n.send(Message(title=f"check {i % keys} failed", event="check.failed"), wait=0)
        row(label, count, time.perf_counter() - began)


async def flush(folder: Path, items: int) -> None:
    with notifier(folder, {"group": {"by": ["event"], "wait": 0}}) as n:
        for i in range(items):
            await n.asend(Message(title=f"check {i} failed", event="check.failed"), wait=0)
        clients, dispatcher = n.pipeline.dispatcher()
        flusher = Flusher(
            n.store, n.outbox, dispatcher.writer, owner=n.owner, lease=60, clock=n.clock
        )
        began = time.perf_counter()
        written = await flusher.flush()
        seconds = time.perf_counter() - began
        assert written == 1
        print(
            f"{f'flush a group of {items:,} items (claim, build, settle)':<56}"
            f" {seconds * 1000:>10.1f} ms  {seconds / items * 1e6:.1f} µs per item"
        )
        began = time.perf_counter()
        checks = 20_000
        for _ in range(checks):
            flusher.due()
        row("the worker's per-turn check (next_group_due)", checks, time.perf_counter() - began)
        await clients.aclose()
        dispatcher.writer.close()


def builds(repeat: int) -> None:
    channels = {
        "webhook": Channel(name="ops", provider="webhook", url="https://hooks.example.com/x"),
        "slack": Channel(
            name="ops",
            provider="slack",
            url="https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
        ),
        "pagerduty": Channel(
            name="ops",
            provider="pagerduty",
            options={"routing_key": "R0utingKeyF0rTests0nly1234567abc"},
        ),
    }
    began = time.perf_counter()
    for _ in range(repeat):
        group_summary(200, resolved=20)
    row("summarize a group of 200 items", repeat, time.perf_counter() - began)
    message = group_summary(200, resolved=20)
    for name, channel in channels.items():
        began = time.perf_counter()
        for _ in range(repeat):
            PROVIDERS.build(channel, message, "d1")
        row(f"build_payload {name}, summary of 200", repeat, time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    quick = parser.parse_args().quick
    count = 500 if quick else 3000
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{platform.system()} {platform.release()}\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in ("plain", "grouped"):
            (folder / name).mkdir()
        accept(folder / "plain", "send --wait 0, plain channel (queued)", {}, count, count)
        accept(
            folder / "grouped",
            "send --wait 0, grouping channel (new items)",
            {"group": {"by": ["event"]}},
            count,
            count,
        )
        (folder / "repeat").mkdir()
        accept(
            folder / "repeat",
            "send --wait 0, grouping channel (10 keys, repeats)",
            {"group": {"by": ["event"]}},
            count,
            10,
        )
        for items in (1_000, 200 if quick else 10_000):
            (folder / f"flush{items}").mkdir()
            asyncio.run(flush(folder / f"flush{items}", items))
    builds(20 if quick else 200)


if __name__ == "__main__":
    main()
