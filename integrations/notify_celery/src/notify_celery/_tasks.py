"""notify's two tasks, registered on any Celery app: ``notify.deliver`` and ``notify.sweep``.

``notify.deliver(delivery_id)`` makes one attempt of one stored delivery
(:class:`notify_core.executor.TaskRunner`) and, when the delivery must be tried again
(backoff, ``Retry-After``, a rate-limit slot further than ``max_pace_wait``), publishes
itself again with that countdown, leaving the row ``pending`` with that ``next_attempt``.
It is ``acks_late`` and ``reject_on_worker_lost``: a worker killed mid-task leaves the
message to be delivered again, and a duplicate is a no-op (the claim decides).

``notify.sweep`` (Celery beat, every ``sweep_every``) publishes a task for every
delivery overdue by ``sweep_after``: what a lost message, a broker restart or a
killed worker's prefetched tasks would otherwise leave behind.

Each worker process (after the fork, on its first task) opens its own
:class:`~notify_core.Notifier` from the notify configuration: store, HTTP clients,
limiter. Threads of one process share it.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any

import attrs

from notify_core import Config, Notifier
from notify_core.executor import TaskRunner

from ._publish import DELIVER, SWEEP, Item, Publisher
from ._settings import CelerySettings

if TYPE_CHECKING:
    from celery import Celery, Task

log = logging.getLogger("notify.celery")

#: How many overdue deliveries one sweep publishes per batch, and at most in batches.
SWEEP_BATCH = 500
SWEEP_BATCHES = 20
#: The least time a published sweep stays worth running (seconds).
SWEEP_EXPIRES = 60.0
#: ``app.conf`` key naming the notify configuration file the workers read.
CONFIG_KEY = "notify_config"


@attrs.define
class _Process:
    """One worker process's notifier, runner and publisher (made after the fork)."""

    pid: int
    notifier: Notifier
    runner: TaskRunner
    publisher: Publisher
    settings: CelerySettings

    def close(self) -> None:
        self.notifier.close()


_lock = threading.Lock()
_processes: dict[int, _Process] = {}  # by id(app): tests and hosts may hold several apps


def _process(app: Celery) -> _Process:
    with _lock:
        state = _processes.get(id(app))
        if state is None or state.pid != os.getpid():  # first task, or a forked child
            path = app.conf.get(CONFIG_KEY) or None
            notifier = Notifier.from_config(path)
            settings = CelerySettings.from_config(notifier.config)
            state = _processes[id(app)] = _Process(
                pid=os.getpid(),
                notifier=notifier,
                runner=TaskRunner(notifier, max_pace_wait=settings.max_pace_wait),
                publisher=Publisher(app, settings.queue, broker=settings.broker),
                settings=settings,
            )
        return state


def close_processes(**_: Any) -> None:
    """Close this process's notifiers (worker shutdown): leases handed back, store closed."""
    with _lock:
        states = [s for s in _processes.values() if s.pid == os.getpid()]
        _processes.clear()
    for state in states:
        state.close()


def deliver(
    task: Task[Any, Any],
    delivery_id: str,
    slot: float | None = None,
    budget_from: int = 0,
    explicit: bool = False,
) -> str:
    """One attempt of ``delivery_id``; re-published when it must be tried again.

    ``explicit``: a retry someone asked for (it passes a disabled channel).
    """
    state = _process(task.app)
    step = state.runner.attempt(delivery_id, slot=slot, budget_from=budget_from, explicit=explicit)
    items = [Item(announced) for announced in step.announced]
    if step.again_at is not None:
        items.append(
            Item(
                delivery_id,
                at=step.again_at,
                slot=step.slot,
                budget_from=step.budget_from,
                explicit=step.explicit,
            )
        )
    state.publisher.publish(items)
    log.info("notify: delivery %s: %s", delivery_id, step.why)
    return step.why


def sweep(task: Task[Any, Any]) -> int:
    """Publish a task for every delivery overdue by ``sweep_after``; how many.

    While the queue has a backlog, a pending delivery overdue by ``sweep_after`` may just
    be waiting its turn in it: then only ended leases are swept (a killed worker's), and
    the pending ones wait until the queue drains. A queue that cannot be read is
    treated as empty: a duplicate task costs a no-op, a lost one a message.
    """
    state = _process(task.app)
    pending = state.publisher.backlog() in (0, None)
    total = 0
    for _ in range(SWEEP_BATCHES):
        ids = state.runner.sweep(
            older_than=state.settings.sweep_after, limit=SWEEP_BATCH, pending=pending
        )
        total += state.publisher.publish(Item(i) for i in ids)
        if len(ids) < SWEEP_BATCH:
            break
    if total:
        log.info("notify: sweep re-published %d overdue deliveries", total)
    return total


def setup(app: Celery, config: str | os.PathLike[str] | Config | None = None) -> Celery:
    """Register notify's tasks on ``app``, route them to the queue, schedule the sweep.

    ``config`` is the notify configuration the workers read (default: ``$NOTIFY_CONFIG``,
    then ``./notify.toml``); its ``[celery]`` table names the queue and the sweep's
    schedule. Call it after the app is configured; returns the app.
    """
    from celery.signals import worker_process_shutdown, worker_shutdown

    # reads the file only: the store, clients and loop are made in each worker process
    loaded = config if isinstance(config, Config) else Notifier.from_config(config).config
    settings = CelerySettings.from_config(loaded)
    if os.path.isfile(loaded.source):  # else the workers find it as notify does
        app.conf[CONFIG_KEY] = os.path.abspath(loaded.source)
    # acknowledged once it ran; given back to the queue when its worker process dies
    app.task(
        name=DELIVER, bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True
    )(deliver)
    # A lost sweep is harmless (the next one comes). One waits behind the queue's backlog,
    # so it must not expire as soon as the next is due: it would never run on a busy
    # queue. Expiring at all only keeps sweeps from piling up while no worker runs.
    expires = max(SWEEP_EXPIRES, 10 * settings.sweep_every)
    app.task(name=SWEEP, bind=True, ignore_result=True, expires=expires)(sweep)
    route = {"queue": settings.queue}
    routes = app.conf.task_routes
    ours = {DELIVER: route, SWEEP: route}
    if routes is None:
        app.conf.task_routes = ours
    elif isinstance(routes, dict):
        app.conf.task_routes = {**ours, **routes}
    else:  # a list or tuple of routers: ours first
        app.conf.task_routes = [ours, *routes]
    app.conf.beat_schedule = {
        **(app.conf.beat_schedule or {}),
        "notify-sweep": {
            "task": SWEEP,
            "schedule": settings.sweep_every,
            "options": {"queue": settings.queue, "expires": expires},
        },
    }
    worker_process_shutdown.connect(close_processes, weak=False)
    worker_shutdown.connect(close_processes, weak=False)
    return app
