"""Dispatch: attempts deliveries concurrently, paced, retried, and recorded.

Each delivery is its own task, so a slow or failing destination only ever delays its
own deliveries. A delivery waits for its destination's slot *before* it takes one of
the global concurrency slots, so a rate-limited channel never holds slots that another
channel could use.

A delivery in a thread (``Job.thread``) first asks the store whether it starts, joins
or must wait for its thread (:meth:`Store.enter_thread`); while an earlier delivery of
its thread is still open it is held, without an attempt counted, and it is built again
with the thread's metadata once it may go.

When a delivery gives up (:meth:`Dispatcher.plan`): a transient failure spends one of
``retry.attempts``; a "slow down" (429) spends nothing and is retried when the
provider said; either way it fails once its next try would fall after
``retry.deadline`` (counted from acceptance, or from a manual retry).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

import attrs

from ._channel import attempt_cap
from ._clock import Clock
from ._duration import format_duration
from ._errors import NotifyError
from ._health import Health
from ._http import exception_outcome
from ._job import Job, ThreadRef
from ._limits import Limiter
from ._outage import Outage
from ._plugins import Providers
from ._provider import Outcome, SendContext
from ._results import DeliveryResult, Progress
from ._retry import next_delay
from ._store import AttemptRow, DeliveryStatus, Store
from ._writer import BatchWriter

if TYPE_CHECKING:
    from ._http import Clients

log = logging.getLogger("notify")
T = TypeVar("T")

#: Told of every attempt once it is recorded (``Notifier.on_attempt``): the delivery's new
#: state and the attempt itself (secrets already masked).
#: told what each delivery is doing: see :class:`~notify_core.Progress`
Observer = Callable[[Progress], None]


#: How often a delivery held behind another process's delivery of its thread asks again.
THREAD_POLL = 0.25


@attrs.frozen
class Plan:
    """What becomes of a delivery after one attempt, decided before anything is written."""

    status: DeliveryStatus
    reason: str
    next_attempt: float | None = None
    counts_as_failure: bool = False
    throttled: int = 0


class Dispatcher:
    def __init__(
        self,
        store: Store,
        providers: Providers,
        clients: Clients,
        *,
        owner: str,
        clock: Clock,
        limiter: Limiter,
        health: Health,
        writer: BatchWriter,
        concurrency: int = 32,
        lease: float = 60.0,
        observers: list[Observer] | None = None,
    ) -> None:
        self.store = store
        self.providers = providers
        self.clients = clients
        self.owner = owner
        self.clock = clock
        self.limiter = limiter
        self.health = health
        self.writer = writer
        self.lease = lease
        self._slots = asyncio.Semaphore(concurrency)
        #: threaded deliveries running here, set when each ends (later ones of the
        #: thread wait on it rather than poll the store)
        self._threaded: dict[str, asyncio.Event] = {}
        self.in_flight = 0
        #: the store's (or shared limiter's) trouble, shared with the worker that runs us
        self.outage = Outage(clock)
        #: told when an attempt starts and how it ended (a terminal's status line, metrics)
        self.observers = observers if observers is not None else []

    def _tell(self, progress: Progress) -> None:
        for observe in self.observers:
            try:
                observe(progress)
            except Exception as exc:  # an observer (metrics) never breaks a delivery
                log.warning("observer %r failed: %s: %s", observe, type(exc).__name__, exc)

    async def run(self, jobs: Iterable[Job], *, deadline: float) -> list[DeliveryResult]:
        """Attempt every job, retrying in-process until ``deadline`` (epoch seconds)."""
        tasks = [asyncio.create_task(self.run_one(job, deadline=deadline)) for job in jobs]
        return list(await asyncio.gather(*tasks))

    async def run_one(self, job: Job, *, deadline: float) -> DeliveryResult:
        """Attempt a leased delivery until it ends, or until its next try is past ``deadline``.

        Cancelled (shutdown), it gives its lease back so another worker takes it now.
        """
        if job.thread is not None:  # later ones of its thread here wait for it to end
            self._threaded.setdefault(job.id, asyncio.Event())
        try:
            while True:
                if job.thread is not None:
                    held = await self._enter_thread(job, job.thread, deadline)
                    if held is not None:
                        return held
                result = await self._attempt(job, deadline)
                if result.status != "sending":
                    return result
                assert result.next_attempt is not None
                await self.clock.sleep(max(0.0, result.next_attempt - self.clock.time()))
        except asyncio.CancelledError:
            self.store.release([job.id], self.owner)
            raise
        finally:
            ended = self._threaded.pop(job.id, None) if job.thread is not None else None
            if ended is not None:
                ended.set()

    async def _enter_thread(
        self, job: Job, thread: ThreadRef, deadline: float
    ) -> DeliveryResult | None:
        """Hold the job until it may go into its thread, then build it; None when it may go.

        While an earlier delivery of the thread is open, the job is given back to the
        store (pending, no attempt counted) and taken again when it may go: when that
        delivery ends, if this dispatcher is sending it; else after :data:`THREAD_POLL`
        (or the holder's next attempt). Given back, it is due again by itself later, so a
        process that dies while holding loses nothing. Past ``deadline``, or when another
        process took it meanwhile, the pending result is returned and a worker carries
        on. A payload that no longer builds fails the delivery.
        """
        store = self.store
        while True:
            turn = await self.writer.call(
                store.enter_thread, job.id, thread.channel, thread.tenant, thread.key
            )
            if turn.step != "wait":
                break
            reason = f"waiting for an earlier message of its thread ({turn.holder})"
            now = self.clock.time()
            here = self._threaded.get(turn.holder or "")
            bounded = deadline > now  # a caller waits (send); a worker's deadline is past
            if here is not None:  # sent by this dispatcher: wait for it to end
                until = min(deadline, now + self.lease) if bounded else now + self.lease
            else:
                until = max(now + THREAD_POLL, turn.until or 0.0)
            await self.writer.call(store.postpone, job.id, self.owner, until=until, reason=reason)
            if here is not None:
                try:
                    await asyncio.wait_for(here.wait(), max(0.0, until - now))
                except asyncio.CancelledError:  # shutting down: leave it due now, not later
                    store.claim_ids(self.owner, [job.id], lease=self.lease)
                    raise
                except asyncio.TimeoutError:  # not the builtin one on Python 3.10
                    if bounded and until >= deadline:
                        return self._result(job, "pending", reason, next_attempt=until)
            elif until > deadline:
                return self._result(job, "pending", reason, next_attempt=until)
            else:
                await self.clock.sleep(until - now)
            lease = self.lease + max(0.0, deadline - self.clock.time())
            taken = await self.writer.call(store.claim_ids, self.owner, [job.id], lease=lease)
            if not taken:  # past its deadline, or a worker took it: it carries on from there
                return self._result(job, "pending", reason, next_attempt=until)
        try:
            job.payload = thread.build(turn.data)
        except NotifyError as exc:
            reason = job.masker.text(str(exc))
            await self.writer.call(store.finish, job.id, status="failed", reason=reason)
            return self._result(job, "failed", reason)
        return None

    def _result(
        self,
        job: Job,
        status: DeliveryStatus,
        reason: str,
        next_attempt: float | None = None,
        http_status: int | None = None,
    ) -> DeliveryResult:
        return DeliveryResult(
            id=job.id,
            channel=job.channel.name,
            tenant=job.channel.tenant,
            provider=job.channel.provider,
            status=status,
            attempts=job.attempts,
            reason=reason,
            http_status=http_status,
            next_attempt=next_attempt,
        )

    @property
    def _patience(self) -> float:
        """How long a store call after a send is retried: well inside the lease."""
        return self.lease / 2

    async def _pace(self, job: Job) -> None:
        delay = await self.outage.retrying(
            lambda: self.limiter.reserve(job.destination, job.rate), budget=self._patience
        )
        if delay > 0:
            try:
                await self.clock.sleep(delay)
            except asyncio.CancelledError:
                await self.limiter.unreserve(job.destination, job.rate)
                raise

    async def _attempt(self, job: Job, deadline: float) -> DeliveryResult:
        # One-time costs come before the slot: creating a client (importing aiohttp,
        # building its pool) takes tens of milliseconds. Paid after it, it makes the
        # first request leave late and the next one catch up with it: a burst the
        # limiter never granted (a strict server answers 429).
        client = self.clients.get(job.channel.verify_tls)
        await self._pace(job)
        async with self._slots:
            self.in_flight += 1
            job.attempts += 1
            if self.observers:
                self._tell(
                    Progress(
                        delivery_id=job.id,
                        channel=job.channel.key,
                        provider=job.channel.provider,
                        phase="attempt",
                        attempt=job.attempts,
                    )
                )
            context = SendContext(
                delivery_id=job.id,
                attempt=job.attempts,
                timeout=job.channel.timeout,
                target=job.target,
            )
            started = self.clock.time()
            t0 = self.clock.monotonic()
            try:
                outcome = await _capped(  # a hard cap, for plugins that hang
                    self.providers.send(job.channel, job.payload, context, client),
                    attempt_cap(job.channel.timeout),
                )
            except (OSError, asyncio.TimeoutError) as exc:  # 3.10: two TimeoutErrors
                outcome = exception_outcome(exc, job.channel.timeout)
            except Exception as exc:
                if _is_http_error(exc):
                    outcome = exception_outcome(exc, job.channel.timeout)
                else:  # a plugin bug is recorded, never crashes the run
                    outcome = Outcome.failed(f"plugin error: {type(exc).__name__}: {exc}")
            finally:
                self.in_flight -= 1
            mask = job.masker.text
            attempt = AttemptRow(
                delivery_id=job.id,
                number=job.attempts,
                started=started,
                duration=self.clock.monotonic() - t0,
                http_status=outcome.http_status,
                outcome=outcome.status,
                error=mask(outcome.reason) or None,
                response=mask(outcome.response_excerpt) or None,
            )
            plan = self.plan(job, outcome, attempt.error or "", deadline)
            # The slot is held until the outcome is committed, so a crash can repeat at
            # most `concurrency` deliveries: those sent but not yet recorded. A database
            # away for a moment (a restart) is waited out: the lease still holds.
            result = await self.outage.retrying(
                lambda: self.writer.call(self._settle, job, outcome, attempt, plan),
                budget=self._patience,
            )
            job.throttled = plan.throttled
            return result

    def plan(self, job: Job, outcome: Outcome, reason: str, deadline: float) -> Plan:
        """Delivered, retried (now-ish in this process, or later by a worker) or given up.

        ``deadline`` is the caller's (epoch seconds): a retry due before it is kept
        leased (``sending``) and attempted here, a later one is left ``pending``.
        """
        if outcome.status == "delivered":
            return Plan("delivered", reason, throttled=job.throttled)
        if outcome.status == "failed":
            return Plan("failed", reason, counts_as_failure=outcome.disables)
        throttled = job.throttled + 1 if outcome.throttled else job.throttled
        used = job.attempts - job.budget_from - throttled
        if not outcome.throttled and used >= job.retry.attempts:
            why = f"gave up after {used} attempts: {reason}"
            return Plan("failed", why, counts_as_failure=True, throttled=throttled)
        tries = throttled if outcome.throttled else used
        next_at = self.clock.time() + next_delay(job.retry, tries, outcome.retry_after)
        if next_at > job.since + job.retry.deadline:
            why = (
                f"gave up: the next attempt would fall after the retry deadline "
                f"({format_duration(job.retry.deadline)} after acceptance): {reason}"
            )
            return Plan("failed", why, counts_as_failure=True, throttled=throttled)
        status: DeliveryStatus = "sending" if next_at <= deadline else "pending"
        return Plan(status, reason, next_at, throttled=throttled)

    def _settle(
        self, job: Job, outcome: Outcome, attempt: AttemptRow, plan: Plan
    ) -> DeliveryResult:
        """Write the attempt and the delivery's new state; update channel health."""
        meta = dict(job.masker.data(dict(outcome.meta))) if outcome.meta else None
        status, next_at = plan.status, plan.next_attempt
        lease_until = (next_at or 0) + self.lease if status == "sending" else None
        attempt = attrs.evolve(attempt, error=plan.reason or None)
        self.store.record_attempt(
            attempt,
            status=status,
            owner=self.owner,
            next_attempt=next_at,
            lease_until=lease_until,
            meta=meta,
            throttled=plan.throttled > job.throttled,
        )
        thread = job.thread
        if status == "delivered" and thread is not None:
            if outcome.end_thread:
                self.store.end_thread(thread.channel, thread.tenant, thread.key)
            elif outcome.thread:
                data = dict(job.masker.data(dict(outcome.thread)))
                self.store.keep_thread(thread.channel, thread.tenant, thread.key, data)
        if status == "delivered":
            self.health.success(job.channel.key)
        elif status == "failed" and plan.counts_as_failure:
            self.health.failure(job.channel, plan.reason)
        if self.observers:
            self._tell(
                Progress(
                    delivery_id=job.id,
                    channel=job.channel.key,
                    provider=job.channel.provider,
                    phase="retry" if next_at is not None else "done",
                    attempt=job.attempts,
                    status=status,
                    reason=plan.reason,
                    next_attempt=next_at,
                    outcome=attempt.outcome,
                    duration=attempt.duration,
                    http_status=attempt.http_status,
                )
            )
        return self._result(job, status, plan.reason, next_at, outcome.http_status)


async def _capped(awaitable: Awaitable[T], seconds: float) -> T:
    """``awaitable``, cancelled after ``seconds`` (TimeoutError).

    ``asyncio.timeout`` (3.11) runs it in the caller's task; ``wait_for`` made a task of
    it, ~11 µs and two more turns of the event loop for every attempt.
    """
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)  # pragma: no cover - Python 3.10


def _is_http_error(exc: BaseException) -> bool:
    import httpx  # loaded by now: a request was just made

    return isinstance(exc, httpx.HTTPError)
