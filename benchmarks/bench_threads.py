"""What threads cost: the hold, the stored metadata and the rebuild per threaded delivery.

    python benchmarks/bench_threads.py            # 2,000 messages per case
    python benchmarks/bench_threads.py --quick    # 300

Every case sends to the loopback sink (nginx ``return 200``; see ``_sink.py``) with the
rate limit off, through the whole pipeline with the durable store on:

* no thread key: today's build-once path (what every non-threading provider gets);
* a thread per message: each delivery asks the store for its turn, is built again,
  and leaves its metadata (one ``enter_thread`` and one ``keep_thread`` more);
* one thread for all: the same, but one message at a time, in order (each waits for
  the previous one to end in this process).

Figures are printed, never asserted: this machine's load changes them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _sink import sink

from notify_core import Channel, Message, Notifier, Providers, Rate
from notify_core._store import NewDelivery, open_store
from notify_core.plugin import Outcome, Payload, ProviderSpec, Target, generic_outcome, hookimpl
from notify_core.testing import FakeClock

UNLIMITED = Rate(per_second=1e9, burst=10**9)


class Threaded:
    """A provider that threads by ``thread_id`` and keeps a small id per thread."""

    @hookimpl
    def register_providers(self) -> list[ProviderSpec]:
        return [ProviderSpec(name="threaded", default_rate=UNLIMITED)]

    @hookimpl
    def validate_url(self, channel: Channel) -> Target:
        return Target(url=channel.url or "")

    @hookimpl
    def thread_key(self, message: Message) -> str | None:
        return message.thread_id

    @hookimpl
    def build_payload(self, message: Message, thread: Mapping[str, Any] | None) -> Payload:
        return Payload(body={"text": message.title, "parent": (thread or {}).get("id")})

    @hookimpl
    def classify_response(self, response: Any) -> Outcome:
        outcome = generic_outcome(response)
        return Outcome.delivered(http_status=outcome.http_status, thread={"id": "1767.000100"})


async def _run(url: str, count: int, thread_of: Callable[[int], str | None], db: Path) -> float:
    providers = Providers()
    providers.register(Threaded(), name="threaded")
    channel = Channel(name="chat", provider="threaded", url=f"{url}/chat", rate=UNLIMITED)
    async with Notifier([channel], providers=providers, db=db, env={}, concurrency=50) as n:
        await n.asend(Message(title="warm"), wait=30)
        start = time.perf_counter()
        sends = [Message(title=f"m{i}", thread_id=thread_of(i)) for i in range(count)]
        results = await asyncio.gather(*(n.asend(m, wait=120) for m in sends))
        elapsed = time.perf_counter() - start
    delivered = sum(r.ok for r in results)
    if delivered != count:
        raise RuntimeError(f"only {delivered} of {count} delivered")
    return count / elapsed


def pipeline(url: str, count: int, thread_of: Callable[[int], str | None]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(_run(url, count, thread_of, Path(tmp) / "bench.db"))


def store_calls(count: int) -> tuple[float, float]:
    """µs per enter_thread (a thread's first message: the starter is recorded) and per
    keep_thread, each in its own transaction, on a SQLite file."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "s.db", clock=FakeClock())
        common: dict[str, Any] = dict(
            message_id="m", event="e", severity="info", tenant=None, channel="chat",
            provider="threaded", target="x", message="{}", payload="{}", status="pending",
        )  # fmt: skip
        rows = [NewDelivery(id=f"d{i:08d}", thread_key=f"t{i}", **common) for i in range(count)]
        store.add(rows)
        start = time.perf_counter()
        for i in range(count):
            store.enter_thread(f"d{i:08d}", "chat", None, f"t{i}")
        enter = (time.perf_counter() - start) / count * 1e6
        start = time.perf_counter()
        for i in range(count):
            store.keep_thread("chat", None, f"t{i}", {"channel": "C0123ABCD", "ts": "1.000001"})
        keep = (time.perf_counter() - start) / count * 1e6
        store.close()
    return enter, keep


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    count = 300 if parser.parse_args().quick else 2000
    with sink() as (url, label):
        print(f"sink: {label}; {count} messages per case, rate limit off, store on")
        base = pipeline(url, count, lambda i: None)
        own = pipeline(url, count, lambda i: f"run-{i}")
        one = pipeline(url, max(count // 4, 50), lambda i: "run")
    enter, keep = store_calls(count)
    rows = [
        ("no thread key (build once)", f"{base:,.0f} /s", ""),
        ("a thread per message", f"{own:,.0f} /s", f"{own / base:.2f}x"),
        ("one thread, in order", f"{one:,.0f} /s", "one at a time"),
        ("store: enter_thread (start)", f"{enter:,.0f} µs", "own transaction"),
        ("store: keep_thread", f"{keep:,.0f} µs", "own transaction"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, figure, note in rows:
        print(f"{name:<{width}}  {figure:>12}  {note}")


if __name__ == "__main__":
    main()
