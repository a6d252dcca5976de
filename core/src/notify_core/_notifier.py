"""``Notifier``: the one object callers and the CLI talk to, a thin façade over the pipeline.

A message goes through routing (:mod:`._routing`), acceptance (:mod:`._acceptance`), the
outbox (:mod:`._outbox`, rows written to the store before any send) and dispatch
(:mod:`._dispatch`); ``notify worker`` is :mod:`._worker`; the blocking API runs on
:mod:`._blocking`. The notifier owns their lifetimes and wires them together.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._acceptance import Acceptance, switch_reason
from ._announce import Announcer
from ._blocking import Bridge
from ._channel import Channel
from ._clock import SYSTEM_CLOCK, Clock
from ._config import (
    DB_ENV,
    DEFAULT_DB,
    LIMITER_ENV,
    NO_CONFIG,
    Config,
    find_config,
    load_config,
    parse_limiter,
)
from ._dispatch import Dispatcher, Observer, attempt_cap
from ._errors import ConfigError, NotifyError
from ._executor import Executor, ExecutorFactory, load_executor
from ._grouping import Flusher
from ._health import Health
from ._http import REROUTE_ENV, parse_reroute
from ._limits import Limiter
from ._limits_store import limiter_for
from ._manage import ChannelManager
from ._models import Message, Severity
from ._outbox import Outbox, payload_record
from ._plugins import Providers
from ._results import DeliveryResult, PlannedDelivery, Progress, SendResult
from ._routing import Router, for_tenant
from ._secrets import SecretBox
from ._store import Store, is_postgres, open_store
from ._stored import StoredChannels
from ._targets import Targets
from ._template import default_message
from ._tenants import TenantFiles
from ._worker import Worker, admit
from ._writer import BatchWriter

if TYPE_CHECKING:
    import httpx

    from ._http import Clients


@attrs.frozen
class _Runtime:
    """What sending needs on one event loop: clients, limiter, writer, dispatcher."""

    loop: asyncio.AbstractEventLoop
    clients: Clients
    dispatcher: Dispatcher

    async def aclose(self) -> None:
        await self.clients.aclose()
        await self.dispatcher.providers.close_transports()
        await self.dispatcher.limiter.aclose()


class Notifier:
    """Sends messages to channels through the durable outbox.

    ``send``/``emit`` write one delivery per routed channel to the store *before*
    sending, attempt them at once, and wait up to ``wait`` seconds for final
    outcomes; what still waits for a retry then stays queued for ``notify worker``.
    With another executor (``[notify] executor = "celery"``, or ``executor=``) they
    return once the rows are stored and handed over, ``pending``.
    Use it as a context manager (sync or async) so clients and the store are closed.
    """

    def __init__(
        self,
        channels: Iterable[Channel] = (),
        *,
        config: Config | None = None,
        db: str | os.PathLike[str] | None = None,
        providers: Providers | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        reroute: Mapping[str, str] | None = None,
        wait: float | None = None,
        concurrency: int | None = None,
        env: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        read_only: bool = False,
        executor: str | ExecutorFactory | None = None,
    ) -> None:
        self.env = os.environ if env is None else env
        self.clock = clock or SYSTEM_CLOCK
        self.providers = providers or Providers.discover(self.env)
        base = config or Config()
        self.config = attrs.evolve(base, channels=(*base.channels, *channels))
        self.targets = Targets(self.providers, self.config.source)
        self.db_path = str(db or self.env.get(DB_ENV) or self._config_db() or DEFAULT_DB)
        #: the keys to stored channels' secrets (NOTIFY_SECRET_KEY…), read when first needed
        self.secrets = SecretBox(self.env)
        self._stored = StoredChannels(self._existing_store, self.providers, self.secrets)
        tenants_dir = self._config_relative(self.config.tenants_dir)
        files = TenantFiles(tenants_dir, self.providers, self.env) if tenants_dir else None
        self.router = Router(self.config, stored=self._stored, tenant_files=files)
        self._manager: ChannelManager | None = None
        self.wait = self.config.wait if wait is None else wait
        self.concurrency = concurrency or self.config.concurrency
        # checked now, like the reroute below: a bad value must fail before anything is stored
        self.limiter_setting = (
            parse_limiter(self.env[LIMITER_ENV], LIMITER_ENV)
            if self.env.get(LIMITER_ENV)
            else self.config.limiter
        )
        self._transport = transport
        #: which connection pool sends (see ``_http._transport.Pool``): ``notify send``
        #: picks httpx's own, since one message does not repay importing aiohttp
        self.http_pool: Literal["aiohttp", "httpx"] = "aiohttp"
        # parsed now: a malformed NOTIFY_REROUTE must fail before anything is stored
        self._reroute = (
            dict(reroute) if reroute is not None else parse_reroute(self.env.get(REROUTE_ENV))
        )
        self._store: Store | None = None
        self._acceptance: Acceptance | None = None
        self._outbox: Outbox | None = None
        self._health: Health | None = None
        self._announcer: Announcer | None = None
        self._runtime_: _Runtime | None = None
        self._observers: list[Observer] = []
        self._executor_choice = executor
        self._executor: Executor | None = None
        self._bridge = Bridge(self)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        #: open the store only to read (the log commands): never create or change it
        self.read_only = read_only

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, **kwargs: Any) -> Notifier:
        """Load ``path`` (or ``$NOTIFY_CONFIG``, or ``./notify.toml``)."""
        env = kwargs.get("env")
        found = find_config(path, env)
        if found is None:
            raise ConfigError(NO_CONFIG)
        providers = kwargs.pop("providers", None) or Providers.discover(env)
        return cls(config=load_config(found, providers, env), providers=providers, **kwargs)

    # -- resources ------------------------------------------------------------------

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.db_path, clock=self.clock, read_only=self.read_only)
        return self._store

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
            self._announcer = Announcer(self.router, self.outbox, self.store)
            self._health = Health(
                self.store,
                clock=self.clock,
                auto_disable_after=self.config.auto_disable_after,
                on_disabled=self._announcer.channel_disabled,
            )
        return self._health

    @property
    def executor(self) -> Executor:
        """Who attempts accepted deliveries: ``executor=``, else ``[notify] executor``.

        Made on first use; an executor other than the default is looked up (entry point
        group ``notify_core.executors``) only then.
        """
        if self._executor is None:
            choice = self._executor_choice or self.config.executor
            factory = (
                load_executor(choice, self.config.source) if isinstance(choice, str) else choice
            )
            self._executor = factory(self)
        return self._executor

    def _config_db(self) -> str | None:
        """``[notify].db``, relative to the configuration file's folder, not the shell's."""
        db = self.config.db
        if db and db != ":memory:" and "://" not in db:
            return self._config_relative(db)
        return db

    def _config_relative(self, path: str | None) -> str | None:
        """A path from the configuration, relative to the file's folder, not the shell's."""
        if path and os.path.exists(self.config.source):
            return os.path.join(os.path.dirname(os.path.abspath(self.config.source)), path)
        return path

    def _existing_store(self) -> Store | None:
        """The store, if there is one: routing never creates a database to look for channels."""
        if self._store is not None or "://" in self.db_path:
            return self.store
        if self.db_path != ":memory:" and os.path.isfile(self.db_path):
            return self.store
        return None

    @property
    def stored_channels(self) -> ChannelManager:
        """Add, edit, remove and audit the channels kept in the store (see :mod:`._manage`)."""
        if self._manager is None:
            self._manager = ChannelManager(self)
        return self._manager

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

    def _limiter(self, writer: BatchWriter) -> Limiter:
        """``[notify].limiter`` (or ``$NOTIFY_LIMITER``): the store's shared pace by default."""
        return limiter_for(self.limiter_setting, self.store, writer, self.clock)

    def _dispatcher(
        self,
        concurrency: int | None = None,
        *,
        wrap_limiter: Callable[[Limiter], Limiter] | None = None,
    ) -> tuple[Clients, Dispatcher]:
        """Clients and a dispatcher; ``wrap_limiter`` wraps the limiter it paces with.

        (A task queue's worker reserves its slots itself: see ``_queue_worker``.)
        """
        from ._http import Clients

        concurrency = concurrency or self.concurrency
        clients = Clients(
            transport=self._transport,
            concurrency=concurrency,
            reroute=self._reroute,
            pool=self.http_pool,
        )
        writer = BatchWriter(self.store)
        limiter = self._limiter(writer)
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
            observers=self._observers,
        )
        return clients, dispatcher

    def _runtime(self) -> _Runtime:
        """Clients and dispatcher for the running event loop, kept between sends.

        Reusing them keeps connections alive and makes the concurrency bound global to
        this notifier, however many ``asend`` calls run at once.
        """
        loop = asyncio.get_running_loop()
        runtime = self._runtime_
        if runtime is None or runtime.loop is not loop:
            clients, dispatcher = self._dispatcher()
            runtime = self._runtime_ = _Runtime(loop, clients, dispatcher)
            if self._bridge.owns(loop):
                self._bridge.on_close(runtime.aclose)
        return runtime

    def close(self) -> None:
        """Close clients, the private loop of the blocking API, and the store."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.close()
        self._bridge.shutdown()
        runtime, self._runtime_ = self._runtime_, None
        if runtime is not None:
            runtime.dispatcher.writer.close()
        if self._store is not None:
            self._store.close()
            self._store = None
            self._health = None

    async def aclose(self) -> None:
        runtime = self._runtime_
        if runtime is not None and runtime.loop is asyncio.get_running_loop():
            self._runtime_ = None
            await runtime.aclose()
            runtime.dispatcher.writer.close()
        if self._executor is not None:
            await self._executor.aclose()
        self.close()

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Notifier:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def observe(self, observer: Callable[[Progress], None]) -> None:
        """Call ``observer(progress)`` when an attempt starts and when it has been recorded.

        Every send, retry and worker of this notifier reports through it: ``notify send``
        draws its status line so, ``notify serve`` counts its Prometheus metrics. It runs
        on the event loop's thread, the recorded ones inside the store's write batch:
        keep it quick; an exception is logged and ignored.
        """
        self._observers.append(observer)

    # -- channels and routing -------------------------------------------------------

    def channels(self, tenant: str | None = None) -> list[Channel]:
        """The channels a tenant's messages may go to: its own, else the root ones."""
        return self.router.channels(tenant)

    def channel(self, name: str, tenant: str | None = None) -> Channel:
        return self.router.channel(name, tenant)

    def all_channels(self) -> list[Channel]:
        """Every channel of every scope: configured, per-tenant files, and stored."""
        return self.router.all_channels()

    def route(
        self, message: Message, to: Sequence[str | Channel] | None = None, tenant: str | None = None
    ) -> list[Channel]:
        """Explicit ``to`` wins; otherwise channels whose events and severity floor match."""
        return self.router.route(message, to, tenant)

    def describe(self, channel: Channel) -> str:
        """The channel's destination, masked; raises :class:`ConfigError` when it is invalid."""
        return self.targets.prepare(channel).display

    def message_for(
        self, event: str, data: Mapping[str, Any], severity: Severity | str | None = None
    ) -> Message:
        """Render the event's template (``[events."…"]``), or a default message."""
        level = Severity.parse(severity) if severity else None
        template = self.config.templates.get(event)
        if template is not None:
            return template.render(data, severity=level)
        try:
            return default_message(event, data, severity=level)
        except ValueError as exc:
            raise NotifyError(f"event {event!r}: {exc}") from None

    # -- sending --------------------------------------------------------------------

    def plan(
        self, message: Message, to: Sequence[str | Channel] | None = None, tenant: str | None = None
    ) -> list[PlannedDelivery]:
        """The dry run: route, validate and build, without storing or sending anything."""
        planned = []
        stored = self._store is not None or os.path.exists(self.db_path)
        for channel in self.route(message, to, tenant):
            prepared = self.targets.prepare(channel)
            as_built = for_tenant(channel, tenant)
            key = self.providers.thread_key(as_built, message, prepared.target)
            row_tenant = None if channel.adhoc else tenant
            thread = self.outbox.thread_data(channel, row_tenant, key) if stored else None
            payload = self.providers.build(as_built, message, "dry-run", prepared.target, thread)
            planned.append(
                PlannedDelivery(
                    channel=channel.name,
                    tenant=channel.tenant,
                    provider=channel.provider,
                    target=prepared.display,
                    payload=json.loads(payload_record(payload, prepared.masker)),
                    skip=self._foreseen_skip(channel),
                )
            )
        return planned

    def _foreseen_skip(self, channel: Channel) -> str | None:
        """The skip a dry run can foresee without creating a store that does not exist."""
        missing = not is_postgres(self.db_path) and not os.path.exists(self.db_path)
        if self._store is None and missing:
            return switch_reason(channel, self.env)
        return self.acceptance.off_reason(channel)

    async def asend(
        self,
        message: Message,
        to: Sequence[str | Channel] | None = None,
        *,
        tenant: str | None = None,
        wait: float | None = None,
    ) -> SendResult:
        """Store one delivery per routed channel, then deliver and wait (bounded).

        With an executor that attempts elsewhere (Celery), return once the rows are
        stored and handed over: the results say ``pending`` (``queued``).
        """
        wait = self.wait if wait is None else wait
        channels = self.route(message, to, tenant)
        executor = self.executor
        send_now = wait > 0 and executor.attempts_here
        accepted = self.outbox.accept(message, channels, tenant=tenant, send_now=send_now)
        submitted = await executor.submit(accepted, wait=wait)
        # read after the write: a grouped delivery learns its reason from its group there
        results = [*accepted.results, *submitted]
        return SendResult(message_id=accepted.message_id, deliveries=accepted.ordered(results))

    async def asend_many(
        self,
        messages: Iterable[Message],
        to: Sequence[str | Channel] | None = None,
        *,
        tenant: str | None = None,
        wait: float | None = None,
    ) -> list[SendResult]:
        """Send a batch: every delivery of every message stored in one transaction.

        Each message is routed as :meth:`asend` routes it (``to``, ``tenant`` apply to
        all); a message that cannot be routed or built raises before anything is stored.
        Then every delivery is attempted concurrently, paced per channel, and the batch
        waits up to ``wait`` seconds for final outcomes. One :class:`SendResult` per
        message, in order. See docs/guide.md, "Sending in bulk".
        """
        from ._bulk import send_many

        return await send_many(self, messages, to, tenant=tenant, wait=wait)

    def send_many(
        self,
        messages: Iterable[Message],
        to: Sequence[str | Channel] | None = None,
        *,
        tenant: str | None = None,
        wait: float | None = None,
    ) -> list[SendResult]:
        """Blocking twin of :meth:`asend_many`."""
        return self._bridge.run(self.asend_many(messages, to, tenant=tenant, wait=wait))

    async def aemit_many(
        self,
        events: Iterable[tuple[str, Mapping[str, Any] | None]],
        *,
        tenant: str | None = None,
        severity: Severity | str | None = None,
        to: Sequence[str | Channel] | None = None,
        wait: float | None = None,
    ) -> list[SendResult]:
        """:meth:`asend_many` of ``(event, data)`` pairs, each through its template."""
        from ._bulk import messages_for

        messages = messages_for(self, events, severity)
        return await self.asend_many(messages, to, tenant=tenant, wait=wait)

    def emit_many(
        self,
        events: Iterable[tuple[str, Mapping[str, Any] | None]],
        *,
        tenant: str | None = None,
        severity: Severity | str | None = None,
        to: Sequence[str | Channel] | None = None,
        wait: float | None = None,
    ) -> list[SendResult]:
        """Blocking twin of :meth:`aemit_many`."""
        return self._bridge.run(
            self.aemit_many(events, tenant=tenant, severity=severity, to=to, wait=wait)
        )

    async def _attempt_now(
        self, ids: Sequence[str], deadline: float, *, explicit: bool = False
    ) -> list[DeliveryResult]:
        """Claim these stored deliveries and attempt them in this process until ``deadline``."""
        dispatcher = self._runtime().dispatcher
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

    def send(
        self,
        message: Message,
        to: Sequence[str | Channel] | None = None,
        *,
        tenant: str | None = None,
        wait: float | None = None,
    ) -> SendResult:
        """Blocking twin of :meth:`asend` (not from inside a running event loop)."""
        return self._bridge.run(self.asend(message, to, tenant=tenant, wait=wait))

    async def aemit(
        self,
        event: str,
        data: Mapping[str, Any] | None = None,
        *,
        tenant: str | None = None,
        severity: Severity | str | None = None,
        to: Sequence[str | Channel] | None = None,
        wait: float | None = None,
    ) -> SendResult:
        """Turn an event into a message through its template, then route and send it."""
        message = self.message_for(event, data or {}, severity)
        return await self.asend(message, to, tenant=tenant, wait=wait)

    def emit(
        self,
        event: str,
        data: Mapping[str, Any] | None = None,
        *,
        tenant: str | None = None,
        severity: Severity | str | None = None,
        to: Sequence[str | Channel] | None = None,
        wait: float | None = None,
    ) -> SendResult:
        """Blocking twin of :meth:`aemit`."""
        return self._bridge.run(
            self.aemit(event, data, tenant=tenant, severity=severity, to=to, wait=wait)
        )

    async def aretry(
        self, ids: Sequence[str], *, wait: float | None = None
    ) -> list[DeliveryResult]:
        """Requeue failed (or skipped) deliveries and attempt them now, keeping their ids.

        Each keeps its history; its payload is rebuilt from the stored message and the
        channel's *current* configuration, so a fixed URL takes effect. They go out even
        to a channel that is disabled (someone asked for them); kill switches still hold.
        With an executor that attempts elsewhere, they are handed over, ``pending``.
        """
        wait = self.wait if wait is None else wait
        return await self.executor.retry(ids, wait=wait)

    def retry(self, ids: Sequence[str], *, wait: float | None = None) -> list[DeliveryResult]:
        """Blocking twin of :meth:`aretry`."""
        return self._bridge.run(self.aretry(ids, wait=wait))

    async def run_worker(
        self,
        *,
        stop: asyncio.Event | None = None,
        once: bool = False,
        concurrency: int | None = None,
        grace: float = 10.0,
        poll: float = 0.5,
        on_result: Callable[[DeliveryResult], None] | None = None,
        on_flight: Callable[[int], None] | None = None,
    ) -> dict[str, int]:
        """Process due deliveries until ``stop`` is set (or, with ``once``, none is due).

        On stop, in-flight attempts get ``grace`` seconds to finish; the rest are
        cancelled and their leases given back, so nothing is lost or left ``sending``.
        """
        concurrency = concurrency or self.concurrency
        clients, dispatcher = self._dispatcher(concurrency)
        worker = Worker(
            dispatcher, self.outbox, self.acceptance, lease=self.lease, concurrency=concurrency
        )
        worker.on_result, worker.on_flight = on_result, on_flight
        worker.groups = Flusher(
            self.store,
            self.outbox,
            dispatcher.writer,
            owner=self.owner,
            lease=self.lease,
            clock=self.clock,
        )
        try:
            return await worker.run(stop or asyncio.Event(), once=once, grace=grace, poll=poll)
        finally:
            await _Runtime(asyncio.get_running_loop(), clients, dispatcher).aclose()
            dispatcher.writer.close()
