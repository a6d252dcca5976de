"""``notify worker``: deliver what is due until stopped."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Annotated

import typer

from .._dispatch import DeliveryResult
from ._common import ConfigOpt, DbOpt, app, load_notifier


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Drain what is due now, then exit.")] = False,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Attempts in flight at once.")
    ] = None,
    grace: Annotated[
        float, typer.Option(help="Seconds in-flight attempts get on shutdown.")
    ] = 10.0,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> int:
    """Process due deliveries (retries, queued sends) until SIGINT or SIGTERM.

    Example: notify worker --concurrency 16
    """
    notifier = load_notifier(config, db)

    def report(result: DeliveryResult) -> None:
        name = f"{result.tenant}/{result.channel}" if result.tenant else result.channel
        print(
            f"{result.status:<9} {name}  attempt {result.attempts}  {result.reason}  [{result.id}]",
            flush=True,
        )

    async def run() -> dict[str, int]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await notifier.run_worker(
            stop=stop, once=once, concurrency=concurrency, grace=grace, on_result=report
        )

    with notifier:
        totals = asyncio.run(run())
    print("worker stopped: " + ", ".join(f"{k} {v}" for k, v in totals.items()), file=sys.stderr)
    return 0 if not once or totals.get("failed", 0) == 0 else 1
