"""The worker side of a task-queue executor: one stored delivery, by id, one attempt.

A task queue (Celery…) carries nothing but a delivery's id: the store holds the rest and
stays the audit log. A task claims the row with a lease, rebuilds the job from it
(:func:`~._worker.admit`: kill switches and disables are checked again), waits for its
rate-limit slot and makes ONE attempt through the dispatcher, which records it exactly
as ``notify worker`` does (the same settle logic: backoff, ``Retry-After``, health,
auto-disable). What comes next is a :class:`Step`: nothing, or "run again at T", which
the queue turns into a countdown, so no worker slot ever sleeps through a backoff.

Pacing follows the same rule: a slot further away than ``max_pace_wait`` is kept
(reserved), the row is postponed to it and the task comes back just before it; a short
wait is slept here. A slot used more than half an interval late is given up and a new
one reserved, so a late task never sends closer to its neighbours than the rate allows.

Duplicate tasks for one delivery are harmless: the claim is atomic (the read and the
claim share one transaction), so a second task finds the row leased (and comes back
when the lease ends), finished (and stops), or not yet due (and comes back then).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._channel import Rate
from ._dispatch import Dispatcher
from ._errors import LimiterUnavailable
from ._limits import Limiter
from ._results import DeliveryResult
from ._store import FINAL, DeliveryRow
from ._worker import admit

if TYPE_CHECKING:
    from ._http import Clients
    from ._notifier import Notifier

T = TypeVar("T")

#: A task may run this much before its row's ``next_attempt`` (clocks of two hosts, a
#: broker's timer) and still attempt it.
EARLY_OK = 0.05
#: When the shared limiter cannot be reached: how long until the task tries again.
LIMITER_RETRY = 2.0
#: A postponed delivery's ``last_error`` while it waits for the slot it holds.
PACED_REASON = "waiting for its rate-limit slot"


@attrs.frozen(kw_only=True)
class Step:
    """What a task should do after running once for ``delivery_id``."""

    delivery_id: str
    #: The attempt's result, or how the delivery ended unattempted (skipped, failed).
    result: DeliveryResult | None = None
    #: When to run the task again (epoch seconds); None: this task is done.
    again_at: float | None = None
    #: A send slot reserved for the delivery (epoch seconds): the next run uses it.
    slot: float | None = None
    #: Attempts made before the current retry budget began (``notify retry`` resets it).
    budget_from: int = 0
    #: A retry someone asked for (``notify retry``): it goes out even to a disabled channel.
    explicit: bool = False
    #: Deliveries this run wrote and nobody carries yet (``notify.channel.disabled``
    #: announcements): the queue publishes a task for each.
    announced: tuple[str, ...] = ()
    #: Why, in a word or a phrase, for logs: ``delivered``, ``retry``, ``paced``, ``leased``…
    why: str = ""


def late_ok(rate: Rate) -> float:
    """How late a reserved slot may still be used: half an interval of the rate."""
    return 0.5 / rate.per_second


class _Prepaid:
    """The dispatcher's limiter inside a task: the runner reserved (and waited) already.

    Everything but ``reserve`` reaches the real limiter, including methods it may gain.
    """

    def __init__(self, inner: Limiter) -> None:
        self.inner = inner

    async def reserve(self, destination: str, rate: Rate) -> float:
        return 0.0

    async def unreserve(self, destination: str, rate: Rate) -> None:
        return None  # nothing was taken by reserve()

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@attrs.define
class _Runtime:
    loop: asyncio.AbstractEventLoop
    clients: Clients
    dispatcher: Dispatcher
    limiter: Limiter

    async def aclose(self) -> None:
        await self.clients.aclose()
        await self.dispatcher.providers.close_transports()
        await self.limiter.aclose()
        self.dispatcher.writer.close()


class TaskRunner:
    """One attempt of one stored delivery per call; what a task queue's task runs.

    ``max_pace_wait``: the longest a task sleeps for its rate-limit slot; a later slot
    is kept and the task re-run shortly before it. One runner per worker process; the
    blocking methods (``attempt``, ``sweep``) run on the notifier's private event loop,
    so threads of one process share its connections and its concurrency bound.
    """

    def __init__(self, notifier: Notifier, *, max_pace_wait: float = 1.0) -> None:
        self.notifier = notifier
        self.max_pace_wait = max_pace_wait
        #: How long before its slot a paced task is run again.
        self.lead = min(0.25, max_pace_wait / 2)
        self._runtime_: _Runtime | None = None

    @property
    def lease(self) -> float:
        """A claim covers the attempt and the short wait for its slot."""
        return self.notifier.lease + self.max_pace_wait

    def _runtime(self) -> _Runtime:
        loop = asyncio.get_running_loop()
        runtime = self._runtime_
        if runtime is None or runtime.loop is not loop:
            clients, dispatcher = self.notifier.pipeline.dispatcher(wrap_limiter=_Prepaid)
            assert isinstance(dispatcher.limiter, _Prepaid)
            limiter = dispatcher.limiter.inner
            runtime = self._runtime_ = _Runtime(loop, clients, dispatcher, limiter)
            bridge = self.notifier.pipeline.bridge
            if bridge.owns(loop):
                bridge.on_close(runtime.aclose)
        return runtime

    # -- one delivery ---------------------------------------------------------------

    def _claim(
        self,
        delivery_id: str,
        owner: str,
        *,
        slot: float | None,
        budget_from: int,
        explicit: bool,
    ) -> DeliveryRow | Step:
        """The row, claimed; or the step to take when it is not ours to attempt now.

        Runs inside one store transaction (the batch writer's), so the checks and the
        claim cannot be split by another task's claim.
        """
        store = self.notifier.store
        now = self.notifier.clock.time()
        row = store.get(delivery_id)

        def step(why: str, again_at: float | None = None) -> Step:
            return Step(
                delivery_id=delivery_id,
                again_at=again_at,
                slot=slot,
                budget_from=budget_from,
                explicit=explicit,
                why=why,
            )

        if row is None:
            return step("gone (pruned)")
        if row.status in FINAL:
            return step(f"already {row.status}")
        if row.status == "sending" and row.lease_until is not None and row.lease_until >= now:
            return step("leased by another worker", row.lease_until)
        early_ok = EARLY_OK + (self.lead if slot is not None else 0.0)
        if row.status == "pending" and (row.next_attempt or 0.0) > now + early_ok:
            return step("not due yet", row.next_attempt)
        claimed = store.claim_ids(owner, [delivery_id], lease=self.lease)
        return claimed[0] if claimed else step("claimed by another worker")

    async def aattempt(
        self,
        delivery_id: str,
        *,
        slot: float | None = None,
        budget_from: int = 0,
        explicit: bool = False,
    ) -> Step:
        """Claim ``delivery_id``, wait for its slot (briefly), attempt it once, record it."""
        step = await self._attempt(delivery_id, slot, budget_from, explicit)
        announcer = self.notifier.pipeline.announcer
        if announcer is not None and announcer.pending:  # a channel was just switched off
            step = attrs.evolve(step, announced=tuple(announcer.take()))
        return step

    async def _attempt(
        self, delivery_id: str, slot: float | None, budget_from: int, explicit: bool
    ) -> Step:
        runtime = self._runtime()
        dispatcher = runtime.dispatcher
        writer, store, owner = dispatcher.writer, dispatcher.store, dispatcher.owner
        clock = self.notifier.clock
        claim = await writer.call(
            self._claim, delivery_id, owner, slot=slot, budget_from=budget_from, explicit=explicit
        )
        if isinstance(claim, Step):
            return claim
        job = await admit(
            claim, self.notifier.outbox, self.notifier.acceptance, dispatcher, explicit=explicit
        )
        if isinstance(job, DeliveryResult):
            return Step(delivery_id=delivery_id, result=job, why=job.status)
        # a manual retry's fresh budget travels with its task (the row does not hold it)
        job.budget_from = max(job.budget_from, budget_from)
        # one-time costs before the slot, as the dispatcher does (see Dispatcher._attempt)
        runtime.clients.get(job.channel.verify_tls)
        now = clock.time()
        try:
            if slot is None or now > slot + late_ok(job.rate):
                slot = now + await runtime.limiter.reserve(job.destination, job.rate)
        except LimiterUnavailable as exc:
            until = now + LIMITER_RETRY
            await writer.call(store.postpone, delivery_id, owner, until=until, reason=str(exc))
            return Step(
                delivery_id=delivery_id,
                again_at=until,
                budget_from=budget_from,
                explicit=explicit,
                why=str(exc),
            )
        wait = slot - clock.time()
        if wait > self.max_pace_wait:
            # keep the slot, free the worker: the row says when the task comes back
            await writer.call(store.postpone, delivery_id, owner, until=slot, reason=PACED_REASON)
            return Step(
                delivery_id=delivery_id,
                again_at=slot - self.lead,
                slot=slot,
                budget_from=budget_from,
                explicit=explicit,
                why="paced",
            )
        if wait > 0:
            try:
                await clock.sleep(wait)
            except asyncio.CancelledError:  # shutdown: the slot and the row go back
                store.release([delivery_id], owner)
                await runtime.limiter.unreserve(job.destination, job.rate)
                raise
        result = await dispatcher.run_one(job, deadline=0.0)
        if result.status == "pending":
            return Step(
                delivery_id=delivery_id,
                result=result,
                again_at=result.next_attempt,
                budget_from=budget_from,
                explicit=explicit,
                why="retry",
            )
        return Step(delivery_id=delivery_id, result=result, why=result.status)

    async def asweep(
        self, *, older_than: float, limit: int = 1000, pending: bool = True
    ) -> list[str]:
        """Deliveries overdue by ``older_than`` seconds, made due now: their tasks were lost.

        See :meth:`~notify_core._store.Store.overdue`; the caller publishes one task each.
        ``pending=False`` while the queue has a backlog: pending rows may be waiting in it.
        """
        notifier = self.notifier
        writer = self._runtime().dispatcher.writer
        # due groups and digests become summary deliveries here, as in `notify worker`;
        # written pending, they are published by a sweep once overdue
        flusher = notifier.pipeline.flusher(writer)
        await flusher.flush()
        before = notifier.clock.time() - older_than
        ids: list[str] = await writer.call(
            notifier.store.overdue, before=before, limit=limit, pending=pending
        )
        return ids

    # -- the blocking twins, for task queues' worker threads and processes -------------

    def attempt(
        self,
        delivery_id: str,
        *,
        slot: float | None = None,
        budget_from: int = 0,
        explicit: bool = False,
    ) -> Step:
        """Blocking twin of :meth:`aattempt` (from a worker's thread, not an event loop)."""
        return self._run(
            self.aattempt(delivery_id, slot=slot, budget_from=budget_from, explicit=explicit)
        )

    def sweep(self, *, older_than: float, limit: int = 1000, pending: bool = True) -> list[str]:
        """Blocking twin of :meth:`asweep`."""
        return self._run(self.asweep(older_than=older_than, limit=limit, pending=pending))

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.notifier.pipeline.bridge.run(coro)

    async def aclose(self) -> None:
        runtime, self._runtime_ = self._runtime_, None
        if runtime is not None:
            await runtime.aclose()
