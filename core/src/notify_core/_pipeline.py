"""The pipeline's parts for one notifier, each made when first needed, and their lifetimes.

Opening a store, loading aiohttp or starting an event loop costs time a one-line
``notify log`` or ``notify --help`` must not pay, so nothing here is built before it is
asked for. :class:`~notify_core.Notifier` is the façade callers see; executors
(:mod:`._executor`, :mod:`._queue_worker`) take the parts they attempt with from here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import attrs

from ._acceptance import Acceptance
from ._announce import Announcer
from ._blocking import Bridge
from ._channel import attempt_cap
from ._clock import Clock
from ._config import Config
from ._health import Health
from ._outbox import Outbox
from ._plugins import Providers
from ._results import DeliveryResult
from ._routing import Router
from ._store import Store, is_postgres, open_store
from ._targets import Targets

if TYPE_CHECKING:  # loaded when first used: an enqueue-only send needs none of them
    import asyncio

    import httpx

    from ._dispatch import Dispatcher, Observer
    from ._grouping import Flusher
    from ._http import Clients
    from ._limits import Limiter
    from ._writer import BatchWriter


def config_relative(config: Config, path: str | None) -> str | None:
    """A path from the configuration, relative to the file's folder, not the shell's."""
    if path and os.path.exists(config.source):
        return os.path.join(os.path.dirname(os.path.abspath(config.source)), path)
    return path


def config_db(config: Config) -> str | None:
    """``[notify].db``: a file path relative to the configuration's folder, a URL as it is."""
    db = config.db
    if db and db != ":memory:" and "://" not in db:
        return config_relative(config, db)
    return db


@attrs.frozen
class Runtime:
    """What sending needs on one event loop: clients and a dispatcher (limiter, writer)."""

    loop: asyncio.AbstractEventLoop
    clients: Clients
    dispatcher: Dispatcher

    async def aclose(self) -> None:
        await self.clients.aclose()
        await self.dispatcher.providers.close_transports()
        await self.dispatcher.limiter.aclose()


class Pipeline:
    """Store, acceptance, outbox, health and dispatchers of one notifier, made lazily."""

    def __init__(
        self,
        *,
        config: Config,
        providers: Providers,
        router: Router,
        targets: Targets,
        env: Mapping[str, str],
        clock: Clock,
        db_path: str,
        read_only: bool,
        owner: str,
        concurrency: int,
        limiter: str,
        transport: httpx.AsyncBaseTransport | None,
        reroute: Mapping[str, str],
        bridge: Bridge,
    ) -> None:
        self.config, self.providers, self.router, self.targets = config, providers, router, targets
        self.env, self.clock = env, clock
        self.db_path, self.read_only, self.owner = db_path, read_only, owner
        self.concurrency, self.limiter_setting = concurrency, limiter
        self.transport, self.reroute = transport, reroute
        #: runs coroutines for the blocking API (and task queues' worker threads)
        self.bridge = bridge
        #: which connection pool sends (see ``_http._transport.Pool``): ``notify send``
        #: picks httpx's own, since one message does not repay importing aiohttp
        self.http_pool: Literal["aiohttp", "httpx"] = "aiohttp"
        #: told when an attempt starts and when it is recorded (``Notifier.observe``)
        self.observers: list[Observer] = []
        #: what a disabled channel's announcement waits in; made with :attr:`health`
        self.announcer: Announcer | None = None
        self._store: Store | None = None
        self._acceptance: Acceptance | None = None
        self._outbox: Outbox | None = None
        self._health: Health | None = None
        self._runtime: Runtime | None = None

    # -- the parts ------------------------------------------------------------------

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.db_path, clock=self.clock, read_only=self.read_only)
        return self._store

    @property
    def store_opened(self) -> bool:
        return self._store is not None

    def existing_store(self) -> Store | None:
        """The store, if there is one: routing never creates a database to look for channels."""
        if self._store is not None or "://" in self.db_path:
            return self.store
        if self.db_path != ":memory:" and os.path.isfile(self.db_path):
            return self.store
        return None

    @property
    def acceptance(self) -> Acceptance:
        if self._acceptance is None:
            self._acceptance = Acceptance(lambda: self.store, self.env, self.clock)
        return self._acceptance

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            self._outbox = Outbox(
                self.providers,
                self.router,
                self.targets,
                self.acceptance,
                self.clock,
                store=lambda: self.store,
            )
        return self._outbox

    @property
    def health(self) -> Health:
        if self._health is None:
            self.announcer = Announcer(self.router, self.outbox, self.store)
            self._health = Health(
                self.store,
                clock=self.clock,
                auto_disable_after=self.config.auto_disable_after,
                on_disabled=self.announcer.channel_disabled,
            )
        return self._health

    @property
    def lease(self) -> float:
        """How long a claim holds: never shorter than one attempt can last.

        An attempt is cut off at :func:`attempt_cap`; a lease shorter than that would let
        a second worker take a delivery still being sent.
        """
        longest = max((c.timeout for c in self.config.all_channels()), default=10.0)
        return max(self.config.lease, attempt_cap(longest) + 1)

    @property
    def db_location(self) -> str:
        """The store's location as people may see it: a database URL's password masked."""
        if self._store is not None:
            return self._store.location
        if is_postgres(self.db_path):
            from ._limits_redis import masked_url

            return masked_url(self.db_path)
        return self.db_path

    # -- attempting -----------------------------------------------------------------

    def dispatcher(
        self,
        concurrency: int | None = None,
        *,
        wrap_limiter: Callable[[Limiter], Limiter] | None = None,
    ) -> tuple[Clients, Dispatcher]:
        """New clients and a dispatcher; ``wrap_limiter`` wraps the limiter it paces with.

        (A task queue's worker reserves its slots itself: see ``_queue_worker``.)
        """
        from ._dispatch import Dispatcher
        from ._http import Clients
        from ._limits_store import limiter_for
        from ._writer import BatchWriter

        concurrency = concurrency or self.concurrency
        clients = Clients(
            transport=self.transport,
            concurrency=concurrency,
            reroute=self.reroute,
            pool=self.http_pool,
        )
        writer = BatchWriter(self.store)
        # [notify].limiter (or $NOTIFY_LIMITER): the store's shared pace by default
        limiter = limiter_for(self.limiter_setting, self.store, writer, self.clock)
        dispatcher = Dispatcher(
            self.store,
            self.providers,
            clients,
            owner=self.owner,
            clock=self.clock,
            limiter=wrap_limiter(limiter) if wrap_limiter else limiter,
            health=self.health,
            writer=writer,
            concurrency=concurrency,
            lease=self.lease,
            observers=self.observers,
        )
        return clients, dispatcher

    def runtime(self) -> Runtime:
        """Clients and dispatcher for the running event loop, kept between sends.

        Reusing them keeps connections alive and makes the concurrency bound global to
        this notifier, however many ``asend`` calls run at once.
        """
        import asyncio  # only ever called on a running loop: imported already, ~0.1 µs

        loop = asyncio.get_running_loop()
        runtime = self._runtime
        if runtime is None or runtime.loop is not loop:
            clients, dispatcher = self.dispatcher()
            runtime = self._runtime = Runtime(loop, clients, dispatcher)
            if self.bridge.owns(loop):
                self.bridge.on_close(runtime.aclose)
        return runtime

    async def attempt_now(
        self, ids: Sequence[str], deadline: float, *, explicit: bool = False
    ) -> list[DeliveryResult]:
        """Claim these stored deliveries and attempt them in this process until ``deadline``."""
        from ._worker import admit

        dispatcher = self.runtime().dispatcher
        lease = self.lease + max(0.0, deadline - self.clock.time())
        rows = await dispatcher.writer.call(self.store.claim_ids, self.owner, ids, lease=lease)
        jobs = []
        results: list[DeliveryResult] = []
        for row in rows:
            job = await admit(row, self.outbox, self.acceptance, dispatcher, explicit=explicit)
            if isinstance(job, DeliveryResult):
                results.append(job)
            else:  # a requeue gave it a fresh budget and deadline, stored with the row
                jobs.append(job)
        if jobs:
            results += await dispatcher.run(jobs, deadline=deadline)
        return results

    def flusher(self, writer: BatchWriter) -> Flusher:
        """Turns due groups and digests into summary deliveries (see :mod:`._grouping`)."""
        from ._grouping import Flusher

        return Flusher(
            self.store, self.outbox, writer, owner=self.owner, lease=self.lease, clock=self.clock
        )

    async def run_worker(
        self,
        stop: asyncio.Event,
        *,
        once: bool,
        concurrency: int | None,
        grace: float,
        poll: float,
        on_result: Callable[[DeliveryResult], None] | None,
        on_flight: Callable[[int], None] | None,
    ) -> dict[str, int]:
        """``notify worker``'s loop, on clients of its own (see ``Notifier.run_worker``)."""
        import asyncio

        from ._worker import Worker

        concurrency = concurrency or self.concurrency
        clients, dispatcher = self.dispatcher(concurrency)
        worker = Worker(
            dispatcher, self.outbox, self.acceptance, lease=self.lease, concurrency=concurrency
        )
        worker.on_result, worker.on_flight = on_result, on_flight
        worker.groups = self.flusher(dispatcher.writer)
        try:
            return await worker.run(stop, once=once, grace=grace, poll=poll)
        finally:
            await Runtime(asyncio.get_running_loop(), clients, dispatcher).aclose()
            dispatcher.writer.close()

    # -- lifetimes ------------------------------------------------------------------

    def close(self) -> None:
        """Stop the blocking API's loop, then close the writer and the store."""
        self.bridge.shutdown()
        runtime, self._runtime = self._runtime, None
        if runtime is not None:
            runtime.dispatcher.writer.close()
        if self._store is not None:
            self._store.close()
            self._store = None
            self._health = None

    async def aclose(self) -> None:
        """Close the running loop's clients first (they cannot be closed from another)."""
        import asyncio

        runtime = self._runtime
        if runtime is not None and runtime.loop is asyncio.get_running_loop():
            self._runtime = None
            await runtime.aclose()
            runtime.dispatcher.writer.close()
