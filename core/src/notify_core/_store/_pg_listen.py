"""``LISTEN``/``NOTIFY``: an idle worker hears at once that work was accepted.

Accepting pending deliveries (``notify send --wait 0``, a release on shutdown, ``notify
retry``) sends a ``NOTIFY`` when its transaction commits (:mod:`._pg_base`). Each worker
listens on a connection of its own, in the event loop; a notification sets an event
the worker's loop waits on beside its poll timer. Polling stays the backstop: a
listener that lost its connection reconnects with backoff and meanwhile costs the
worker nothing but the poll interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import psycopg

from ._pg_base import WORK_CHANNEL

log = logging.getLogger("notify")


class PgWakeups:
    """One listening connection; :meth:`wait` returns True when a ``NOTIFY`` came."""

    def __init__(self, url: str, kwargs: dict[str, Any]) -> None:
        self._url = url
        self._kwargs = kwargs
        self._event: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def wait(self, timeout: float) -> bool:
        if self._event is None:
            self._event = asyncio.Event()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._listen(self._event), name="notify-listen")
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except asyncio.TimeoutError:  # not the builtin one on Python 3.10
            return False
        self._event.clear()
        return True

    async def _listen(self, event: asyncio.Event) -> None:
        delay = 0.5
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._url, **self._kwargs)
                async with conn:
                    await conn.execute(f"LISTEN {WORK_CHANNEL}")
                    event.set()  # work may have come while nobody listened
                    delay = 0.5
                    async for _ in conn.notifies():
                        event.set()
            except psycopg.Error as exc:  # the worker's own store calls say so, once
                log.debug("listener: %s: reconnecting in %.1fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, psycopg.Error):
                await task
