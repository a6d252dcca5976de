"""``notify worker``: deliver what is due until stopped."""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from ._common import ConfigOpt, DbOpt, GraceOpt, app
from ._shared import load_notifier

if TYPE_CHECKING:  # loaded by the commands that use them, not for `notify --help`
    pass

if TYPE_CHECKING:  # loaded by the commands that use them, not for `notify --help`
    from .._notifier import Notifier
    from .._results import DeliveryResult


class _Status:
    """A live status line on a terminal; plain log lines when output is not a terminal."""

    def __init__(self, notifier: Notifier, *, live: bool, once: bool) -> None:
        self.notifier = notifier
        self.live = live
        self.once = once
        self.started = time.monotonic()
        self.counts = {"delivered": 0, "failed": 0, "pending": 0, "skipped": 0}
        self.total = self._due() if once else 0

    def _due(self) -> int:
        from .._outage import SURVIVABLE

        try:
            counts = self.notifier.store.counts()
        except SURVIVABLE:  # the database is away; the worker says so itself
            return 0
        return counts.get("pending", 0) + counts.get("sending", 0)

    def result(self, result: DeliveryResult) -> None:
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        if not self.live:
            name = f"{result.tenant}/{result.channel}" if result.tenant else result.channel
            print(
                f"{result.status:<9} {name}  attempt {result.attempts}  {result.reason}  "
                f"[{result.id}]",
                flush=True,
            )

    def line(self, in_flight: int) -> str:
        done = self.counts["delivered"] + self.counts["failed"] + self.counts["skipped"]
        rate = done / max(1e-9, time.monotonic() - self.started)
        if self.once and self.total:
            width = 30
            filled = int(width * min(1.0, done / self.total))
            bar = "#" * filled + "-" * (width - filled)
            return (
                f"[{bar}] {done}/{self.total}  delivered {self.counts['delivered']}  "
                f"failed {self.counts['failed']}  {rate:.1f}/s"
            )
        return (
            f"pending {self._due() - in_flight}  in flight {in_flight}  "
            f"delivered {self.counts['delivered']}  failed {self.counts['failed']}  "
            f"{rate:.1f}/s"
        )

    async def refresh(self, in_flight: Callable[[], int]) -> None:
        import asyncio

        while True:
            sys.stderr.write("\r\033[K" + self.line(in_flight()))
            sys.stderr.flush()
            await asyncio.sleep(0.5)


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Drain what is due now, then exit.")] = False,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Attempts in flight at once.")
    ] = None,
    grace: GraceOpt = 10.0,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> int:
    """Process due deliveries (retries, queued sends) until SIGINT or SIGTERM.

    On a signal it stops taking work, gives in-flight attempts --grace seconds, and
    hands the rest back to the outbox: nothing is lost or left leased.

    Example: notify worker --concurrency 16
    """
    import asyncio

    notifier = load_notifier(config, db)
    # warnings (a database outage and its end, a delivery that could not be recorded)
    # as timestamped lines on stderr; psycopg's pool would repeat each reconnect attempt
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s notify worker: %(message)s")
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)

    async def run() -> dict[str, int]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        status = _Status(notifier, live=sys.stderr.isatty(), once=once)
        flight = {"n": 0}
        ticker = asyncio.create_task(status.refresh(lambda: flight["n"])) if status.live else None
        try:
            return await notifier.run_worker(
                stop=stop,
                once=once,
                concurrency=concurrency,
                grace=grace,
                on_result=status.result,
                on_flight=lambda n: flight.__setitem__("n", n),
            )
        finally:
            if ticker is not None:
                ticker.cancel()
                sys.stderr.write("\r\033[K" + status.line(0) + "\n")

    with notifier:
        totals = asyncio.run(run())
    print("worker stopped: " + ", ".join(f"{k} {v}" for k, v in totals.items()), file=sys.stderr)
    return 0 if not once or totals.get("failed", 0) == 0 else 1
