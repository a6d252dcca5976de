"""The executor step: who attempts the deliveries the outbox accepted.

The store stays the source of truth whoever attempts: every delivery is a row before
anything is sent, and an executor only decides where its attempts run.

- :class:`LocalExecutor` (``[notify] executor = "local"``, the default) attempts them in
  the sending process, waiting (bounded) for final outcomes; what still waits for a
  retry at the deadline stays ``pending`` for ``notify worker``.
- Any other name is an installed executor, found through the ``notify_core.executors``
  entry point group (``celery = "notify_celery:CeleryExecutor"``): a factory called
  with the :class:`~notify_core.Notifier`. The group is read only when the
  configuration names such an executor, so a plain start-up pays for no scan.

An executor that hands deliveries to other processes (``attempts_here`` False) gets
the rows ``pending``; ``send`` returns as soon as they are stored and handed over. Its
workers attempt them one id at a time with :class:`~notify_core._queue_worker.TaskRunner`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from ._config import DEFAULT_EXECUTOR
from ._errors import ConfigError, LimiterUnavailable
from ._outbox import Accepted
from ._results import DeliveryResult

if TYPE_CHECKING:
    from ._dispatch import Dispatcher
    from ._job import Job
    from ._notifier import Notifier

#: The entry point group of executors: ``name = "module:factory"``.
EXECUTORS_GROUP = "notify_core.executors"


class Executor(Protocol):
    """Where accepted deliveries are attempted. One per :class:`~notify_core.Notifier`."""

    @property
    def attempts_here(self) -> bool:
        """True when this process attempts what it accepts (and ``send`` may wait for it).

        False for an executor that hands deliveries to other processes: the outbox then
        stores them ``pending`` (``queued``), and ``send`` never waits for outcomes.
        """
        ...

    async def submit(self, accepted: Accepted, *, wait: float) -> list[DeliveryResult]:
        """Store ``accepted`` (:meth:`Accepted.write`) and have its deliveries attempted.

        Returns the results of ``accepted.jobs`` (those to attempt here, when
        ``attempts_here``); the others are in ``accepted.results`` already. Nothing may
        be sent before the rows are committed.
        """
        ...

    async def retry(self, ids: Sequence[str], *, wait: float) -> list[DeliveryResult]:
        """Requeue failed or skipped deliveries (ids and history kept) and have them attempted.

        Each gets a fresh retry budget; its payload is rebuilt from the channel's
        current configuration.
        """
        ...

    async def aclose(self) -> None:
        """Release what the executor holds on the running event loop."""
        ...

    def close(self) -> None:
        """Release the rest (threads, connections); called once, by ``Notifier.close``."""
        ...


#: What ``[notify] executor`` names: a callable making the executor for a notifier.
ExecutorFactory = Callable[["Notifier"], Executor]


def load_executor(name: str, source: str | None = None) -> ExecutorFactory:
    """The factory of the executor called ``name`` (an entry point, loaded now).

    ``source`` (the configuration file) is named in the error when there is none.
    """
    if name == DEFAULT_EXECUTOR:
        return LocalExecutor
    from importlib.metadata import entry_points  # read only for a named executor

    found = entry_points(group=EXECUTORS_GROUP, name=name)
    if not found:
        installed = sorted({ep.name for ep in entry_points(group=EXECUTORS_GROUP)})
        known = ", ".join([DEFAULT_EXECUTOR, *installed])
        hint = f" (pip install notify-{name}?)" if name == "celery" else ""
        raise ConfigError(
            f"no executor {name!r} is installed{hint}; known: {known}",
            source=source,
            path="notify.executor",
        )
    entry = next(iter(found))
    try:
        factory: ExecutorFactory = entry.load()
    except ImportError as exc:
        raise ConfigError(
            f"executor {name!r} cannot be loaded: {exc}", source=source, path="notify.executor"
        ) from None
    return factory


class LocalExecutor:
    """Attempts in the sending process, retrying until the ``wait`` deadline.

    The rows of a send are written leased to this process (``sending``) for
    ``lease + wait`` seconds, so no worker takes them while they are being sent here.
    """

    attempts_here = True

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    def write(self, accepted: Accepted, wait: float) -> None:
        """The rows (a store call), leased to this process for the lease plus ``wait``."""
        notifier = self.notifier
        accepted.write(notifier.store, owner=notifier.owner, lease=notifier.lease + wait)

    def queue(self, accepted: Accepted) -> list[DeliveryResult]:
        """:meth:`submit` with ``wait=0``, blocking: the write alone, nothing attempted.

        One transaction, as the batch writer runs a lone call; no event loop is needed,
        so the blocking API calls this on its own thread (``Notifier.send``).
        """
        with self.notifier.store.transaction(isolated=False):
            self.write(accepted, 0.0)
        return []

    async def submit(self, accepted: Accepted, *, wait: float) -> list[DeliveryResult]:
        notifier = self.notifier
        dispatcher = notifier.pipeline.runtime().dispatcher
        # concurrent sends share one commit; each still waits for its own before sending
        await dispatcher.writer.call(self.write, accepted, wait)
        results = await self._run(dispatcher, accepted.jobs, wait)
        announcer = notifier.pipeline.announcer
        if announcer is not None and announcer.pending and wait > 0:
            # one attempt each, now: the caller waits for its own message, not for the news
            # about a channel; what needs a retry is left to the next worker
            await notifier.pipeline.attempt_now(announcer.take(), notifier.clock.time())
        return results

    async def retry(self, ids: Sequence[str], *, wait: float) -> list[DeliveryResult]:
        notifier = self.notifier
        dispatcher = notifier.pipeline.runtime().dispatcher
        await dispatcher.writer.call(notifier.store.requeue, ids)
        return await notifier.pipeline.attempt_now(ids, notifier.clock.time() + wait, explicit=True)

    async def _run(
        self, dispatcher: Dispatcher, jobs: Sequence[Job], wait: float
    ) -> list[DeliveryResult]:
        deadline = self.notifier.clock.time() + wait
        if len(jobs) == 1:  # the common case: no task and no gather for one channel
            return [await self._one(dispatcher, jobs[0], deadline)]
        if not jobs:
            return []
        import asyncio  # not at import: a send that only queues needs no event loop

        return list(await asyncio.gather(*(self._one(dispatcher, j, deadline) for j in jobs)))

    async def _one(self, dispatcher: Dispatcher, job: Job, deadline: float) -> DeliveryResult:
        """One job to its end; a shared limiter that cannot be reached leaves it queued.

        Not the caller's problem: the delivery is handed back, due now, for a worker.
        """
        try:
            return await dispatcher.run_one(job, deadline=deadline)
        except LimiterUnavailable as exc:
            await dispatcher.writer.call(dispatcher.store.release, [job.id], dispatcher.owner)
            return DeliveryResult(
                id=job.id,
                channel=job.channel.name,
                tenant=job.channel.tenant,
                provider=job.channel.provider,
                status="pending",
                attempts=job.attempts,
                reason=str(exc),
            )

    async def aclose(self) -> None:
        return None

    def close(self) -> None:
        return None
