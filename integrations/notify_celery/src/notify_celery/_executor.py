"""The send side: ``[notify] executor = "celery"`` stores deliveries, then publishes their ids.

``Notifier.send``/``emit`` (and ``notify send``) return as soon as the rows are
committed and the tasks published: every result is ``pending`` (``queued``), and the
Celery workers make the attempts. ``notify retry`` requeues in the store and publishes.

Celery is imported on the first publish, not when the executor is made, so ``notify
check`` and a host application's start-up do not pay for it before they send.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Sequence
from typing import TYPE_CHECKING

from notify_core import ConfigError, DeliveryResult, NotifyError
from notify_core.executor import ADHOC_PREFIX, Accepted

from ._publish import Item, Publisher
from ._settings import CelerySettings

if TYPE_CHECKING:
    from celery import Celery

    from notify_core import Notifier


class CeleryExecutor:
    """Deliveries as Celery tasks: stored ``pending`` here, attempted by the workers."""

    attempts_here = False

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.settings = CelerySettings.from_config(notifier.config)
        self._publisher: Publisher | None = None
        self._writer: object | None = None
        # kombu connections are used from this one thread: publishing never blocks
        # the event loop the application sends from
        self._thread: concurrent.futures.ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        return f"CeleryExecutor({self.settings!r})"

    @property
    def app(self) -> Celery:
        return self.publisher.app

    @property
    def publisher(self) -> Publisher:
        if self._publisher is None:
            self._publisher = Publisher(
                self._app(), self.settings.queue, broker=self.settings.broker
            )
        return self._publisher

    def _app(self) -> Celery:
        if self.settings.app is None:
            from ._app import make_app

            return make_app(self.notifier.config)
        from celery import Celery
        from celery.utils.imports import symbol_by_name

        try:
            app = symbol_by_name(self.settings.app)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ConfigError(
                f"cannot import {self.settings.app!r}: {type(exc).__name__}: {exc}",
                source=self.settings.source,
                path="celery.app",
            ) from None
        if not isinstance(app, Celery):
            raise ConfigError(
                f"{self.settings.app!r} is a {type(app).__name__}, not a Celery app",
                source=self.settings.source,
                path="celery.app",
            )
        return app

    async def _publish(self, items: list[Item]) -> int:
        if not items:
            return 0
        publisher = self.publisher  # made here: a bad celery.app is the caller's error
        if self._thread is None:
            self._thread = concurrent.futures.ThreadPoolExecutor(1, "notify-celery")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, publisher.publish, items)

    async def submit(self, accepted: Accepted, *, wait: float) -> list[DeliveryResult]:
        if any(row.channel.startswith(ADHOC_PREFIX) for row in accepted.rows):
            raise NotifyError(
                "an ad hoc target (--url) cannot be handed to Celery: it is secret and not "
                "stored; configure a channel, or send it with executor='local'"
            )
        from notify_core._writer import BatchWriter

        pending = [Item(row.id) for row in accepted.rows if row.status == "pending"]
        if pending:
            self.publisher  # noqa: B018 (a celery.app that cannot be imported: stop before storing)
        if self._writer is None:
            self._writer = BatchWriter(self.notifier.store)
        writer = self._writer
        assert isinstance(writer, BatchWriter)
        # committed before any task exists: a worker never looks for a row not yet there
        await writer.call(accepted.write, self.notifier.store)
        await self._publish(pending)
        return []

    async def retry(self, ids: Sequence[str], *, wait: float) -> list[DeliveryResult]:
        store = self.notifier.store
        rows = [row for i in store.requeue(ids) if (row := store.get(i)) is not None]
        # a fresh retry budget: the attempts made so far are carried in the task
        await self._publish([Item(row.id, budget_from=row.attempts, explicit=True) for row in rows])
        return [
            DeliveryResult(
                id=row.id,
                channel=row.channel,
                tenant=row.tenant,
                provider=row.provider,
                status="pending",
                attempts=row.attempts,
                reason="queued",
            )
            for row in rows
        ]

    async def aclose(self) -> None:
        return None

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        writer, self._writer = self._writer, None
        if writer is not None:
            from notify_core._writer import BatchWriter

            assert isinstance(writer, BatchWriter)
            writer.close()
        if self._publisher is not None and self.settings.app is None:
            self._publisher.app.close()  # the app we made: its broker connections
        self._publisher = None
