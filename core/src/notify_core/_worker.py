"""The worker: claims what is due from the store and attempts it, until told to stop.

Each turn it first flushes due groups and digests (:class:`~._grouping.Flusher`): their
summaries are ordinary pending deliveries, taken by the claim that follows.

Any number of workers (threads of no consequence, processes, hosts) may share one
store: claims are leased and atomic, so a delivery is attempted by one of them at a
time, and a worker that dies leaves leases that expire into the next one's hands.

A worker outlives its database's outages: a claim that fails (a PostgreSQL restart, a
network cut, SQLite's lock held too long) is logged once, backed off and tried again;
what it had claimed stays leased to it meanwhile. An idle worker polls, and with a
store that can call (PostgreSQL's ``LISTEN``) it also wakes when work is accepted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ._acceptance import Acceptance
from ._dispatch import Dispatcher
from ._grouping import Flusher
from ._job import Job
from ._outage import SURVIVABLE
from ._outbox import Outbox, Unsendable
from ._results import DeliveryResult
from ._store import DeliveryRow, DeliveryStatus, Wakeups

log = logging.getLogger("notify")


async def admit(
    row: DeliveryRow,
    outbox: Outbox,
    acceptance: Acceptance,
    dispatcher: Dispatcher,
    *,
    explicit: bool = False,
) -> Job | DeliveryResult:
    """A claimed delivery as a job, or its end (failed or skipped) when it cannot go.

    Kill switches and disables are checked again here, when it is about to be sent
    (an ``explicit`` retry passes disables: see :meth:`Acceptance.recheck`); silences
    and cooldowns were decided when it was accepted.
    """
    job = outbox.rebuild(row)
    status: DeliveryStatus
    if isinstance(job, Unsendable):
        status, reason = "failed", job.reason
    else:
        skip = acceptance.recheck(job.channel, explicit=explicit).skip
        if skip is None:
            return job
        status, reason = "skipped", skip
    await dispatcher.writer.call(dispatcher.store.finish, row.id, status=status, reason=reason)
    return DeliveryResult(
        id=row.id,
        channel=row.channel,
        tenant=row.tenant,
        provider=row.provider,
        status=status,
        attempts=row.attempts,
        reason=reason,
    )


class Worker:
    """The loop of ``notify worker``: claim, admit, dispatch, collect."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        outbox: Outbox,
        acceptance: Acceptance,
        *,
        lease: float,
        concurrency: int,
    ) -> None:
        self.dispatcher = dispatcher
        self.outbox = outbox
        self.acceptance = acceptance
        self.lease = lease
        self.concurrency = concurrency
        #: the latest status of every delivery this worker handled: a delivery retried three
        #: times is one delivery, counted once by where it ended
        self.latest: dict[str, DeliveryStatus] = {}
        self.errors = 0
        self.tasks: set[asyncio.Task[DeliveryResult]] = set()
        self.on_result: Callable[[DeliveryResult], None] | None = None
        self.on_flight: Callable[[int], None] | None = None
        #: flushes due groups and digests into summary deliveries, which the next claim takes
        self.groups: Flusher | None = None

    @property
    def totals(self) -> dict[str, int]:
        """Deliveries by the status they are in now (plus ``errors``, when any)."""
        totals = {"delivered": 0, "failed": 0, "pending": 0, "skipped": 0}
        for status in self.latest.values():
            totals[status] = totals.get(status, 0) + 1
        if self.errors:
            totals["errors"] = self.errors
        return totals

    def _count(self, result: DeliveryResult) -> None:
        self.latest[result.id] = result.status
        if self.on_result is not None:
            self.on_result(result)

    def _collect(self, task: asyncio.Task[DeliveryResult]) -> None:
        self.tasks.discard(task)
        if self.on_flight is not None:
            self.on_flight(len(self.tasks))
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            # the delivery stays leased and comes back when the lease ends; say why
            self.errors += 1
            log.warning(
                "delivery %s: %s: %s (it will be retried when its lease ends)",
                task.get_name(),
                type(error).__name__,
                error,
            )
            return
        self._count(task.result())

    async def _claim(self, *, topping_up: bool = False) -> list[DeliveryRow]:
        """Lease what is due, up to twice the concurrency in hand.

        ``topping_up`` (woken only because deliveries finished): claim only once half the
        concurrency is free. With enough in hand to keep every slot busy, a claim per
        finished delivery would cost a database round trip each for nothing.
        """
        free = self.concurrency * 2 - len(self.tasks)
        if free <= 0 or (topping_up and free < max(1, self.concurrency // 2)):
            return []
        owner = self.dispatcher.owner
        store = self.dispatcher.store
        rows: list[DeliveryRow] = await self.dispatcher.writer.call(
            store.claim, owner, limit=free, lease=self.lease
        )
        return rows

    async def run(
        self, stop: asyncio.Event, *, once: bool = False, grace: float = 10.0, poll: float = 0.5
    ) -> dict[str, int]:
        """Process due deliveries until ``stop`` is set (or, with ``once``, none is due).

        On stop, in-flight attempts get ``grace`` seconds to finish; the rest are
        cancelled and their leases given back, so nothing is lost or left ``sending``.
        """
        stopper = asyncio.create_task(stop.wait())
        wakeups = self.dispatcher.store.wakeups()
        outage = self.dispatcher.outage
        topping_up = False
        try:
            while not stop.is_set():
                try:
                    if self.groups is not None:
                        await self.groups.flush()
                    rows = await self._claim(topping_up=topping_up)
                    await self._start(rows)
                except SURVIVABLE as exc:  # the database is away: wait, then claim again
                    await asyncio.wait({stopper}, timeout=outage.failed(exc))
                    continue
                if outage.since is not None:
                    outage.recovered()
                if once and not rows and not self.tasks:
                    break
                topping_up = False
                if rows and len(self.tasks) < self.concurrency * 2:
                    continue
                topping_up = await self._idle(stopper, wakeups, poll)
        finally:
            stopper.cancel()
            await self._drain(grace)
            if wakeups is not None:
                await wakeups.aclose()
        return self.totals

    async def _start(self, rows: list[DeliveryRow]) -> None:
        """A task per claimed delivery that can go; the others end here (failed, skipped)."""
        for row in rows:
            job = await admit(row, self.outbox, self.acceptance, self.dispatcher)
            if isinstance(job, DeliveryResult):
                self._count(job)
                continue
            task = asyncio.create_task(self.dispatcher.run_one(job, deadline=0.0), name=job.id)
            self.tasks.add(task)
            task.add_done_callback(self._collect)
        if rows and self.on_flight is not None:
            self.on_flight(len(self.tasks))

    async def _idle(self, stopper: asyncio.Task[Any], wakeups: Wakeups | None, poll: float) -> bool:
        """Until a delivery ends, work is accepted (if the store says), a stop, or ``poll``.

        True when only deliveries ending woke it: a top-up, not news of more work.
        """
        waiters: set[asyncio.Future[Any]] = {stopper, *self.tasks}
        woken = asyncio.create_task(wakeups.wait(poll)) if wakeups is not None else None
        if woken is not None:
            waiters.add(woken)
        done, _ = await asyncio.wait(waiters, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
        news = woken in done and not woken.cancelled() and woken.result()
        if woken is not None and not woken.done():
            woken.cancel()
        return bool(done) and stopper not in done and not news

    async def _drain(self, grace: float) -> None:
        if not self.tasks:
            return
        _, still = await asyncio.wait(set(self.tasks), timeout=grace)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still)
