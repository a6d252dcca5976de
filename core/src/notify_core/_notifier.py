"""``Notifier``: the one object callers and the CLI talk to, a thin façade over the pipeline.

A message goes through routing (:mod:`._routing`), acceptance (:mod:`._acceptance`), the
outbox (:mod:`._outbox`, rows written to the store before any send) and dispatch
(:mod:`._dispatch`); ``notify worker`` is :mod:`._worker`; the blocking API runs on
:mod:`._blocking`. The notifier owns their lifetimes and wires them together.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._acceptance import Acceptance
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
from ._errors import ConfigError, NotifyError
from ._executor import Executor, ExecutorFactory, LocalExecutor, load_executor
from ._health import Health
from ._http import REROUTE_ENV, parse_reroute
from ._models import Message, Severity
from ._outbox import Accepted, Outbox
from ._pipeline import Pipeline, config_db, config_relative
from ._plugins import Providers
from ._results import DeliveryResult, PlannedDelivery, Progress, SendResult
from ._routing import Router
from ._secrets import SecretBox
from ._store import Store
from ._stored import StoredChannels
from ._targets import Targets
from ._template import default_message
from ._tenants import TenantFiles

if TYPE_CHECKING:
    import asyncio

    import httpx

    from ._manage import ChannelManager


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
        self.db_path = str(db or self.env.get(DB_ENV) or config_db(self.config) or DEFAULT_DB)
        #: the keys to stored channels' secrets (NOTIFY_SECRET_KEY…), read when first needed
        self.secrets = SecretBox(self.env)
        self._stored = StoredChannels(
            lambda: self.pipeline.existing_store(), self.providers, self.secrets
        )
        tenants_dir = config_relative(self.config, self.config.tenants_dir)
        files = TenantFiles(tenants_dir, self.providers, self.env) if tenants_dir else None
        self.router = Router(self.config, stored=self._stored, tenant_files=files)
        self._manager: ChannelManager | None = None
        self.wait = self.config.wait if wait is None else wait
        self.concurrency = concurrency or self.config.concurrency
        self._executor_choice = executor
        self._executor: Executor | None = None
        self.owner = f"{_hostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        #: open the store only to read (the log commands): never create or change it
        self.read_only = read_only
        self.pipeline = Pipeline(
            config=self.config,
            providers=self.providers,
            router=self.router,
            targets=self.targets,
            env=self.env,
            clock=self.clock,
            db_path=self.db_path,
            read_only=read_only,
            owner=self.owner,
            concurrency=self.concurrency,
            # both checked now: a bad value must fail before anything is stored
            limiter=parse_limiter(self.env[LIMITER_ENV], LIMITER_ENV)
            if self.env.get(LIMITER_ENV)
            else self.config.limiter,
            transport=transport,
            reroute=dict(reroute)
            if reroute is not None
            else parse_reroute(self.env.get(REROUTE_ENV)),
            bridge=Bridge(self),
        )

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, **kwargs: Any) -> Notifier:
        """Load ``path`` (or ``$NOTIFY_CONFIG``, or ``./notify.toml``)."""
        env = kwargs.get("env")
        found = find_config(path, env)
        if found is None:
            raise ConfigError(NO_CONFIG)
        providers = kwargs.pop("providers", None) or Providers.discover(env)
        return cls(config=load_config(found, providers, env), providers=providers, **kwargs)

    # -- the pipeline's parts (see :mod:`._pipeline`) ---------------------------------

    @property
    def store(self) -> Store:
        return self.pipeline.store

    @property
    def acceptance(self) -> Acceptance:
        return self.pipeline.acceptance

    @property
    def outbox(self) -> Outbox:
        return self.pipeline.outbox

    @property
    def health(self) -> Health:
        return self.pipeline.health

    @property
    def lease(self) -> float:
        """How long a claim holds: never shorter than one attempt can last."""
        return self.pipeline.lease

    @property
    def db_location(self) -> str:
        """The store's location as people may see it: a database URL's password masked."""
        return self.pipeline.db_location

    @property
    def limiter_setting(self) -> str:
        return self.pipeline.limiter_setting

    @property
    def http_pool(self) -> Literal["aiohttp", "httpx"]:
        """Which connection pool sends: ``notify send`` picks httpx's own for one message."""
        return self.pipeline.http_pool

    @http_pool.setter
    def http_pool(self, pool: Literal["aiohttp", "httpx"]) -> None:
        self.pipeline.http_pool = pool

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

    @property
    def stored_channels(self) -> ChannelManager:
        """Add, edit, remove and audit the channels kept in the store (see :mod:`._manage`)."""
        if self._manager is None:
            from ._manage import ChannelManager  # not for a send: ~5 ms of imports

            self._manager = ChannelManager(self)
        return self._manager

    def close(self) -> None:
        """Close clients, the private loop of the blocking API, and the store."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.close()
        self.pipeline.close()

    async def aclose(self) -> None:
        await self.pipeline.aclose()
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
        self.pipeline.observers.append(observer)

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
        from ._dryrun import plan

        return plan(self.pipeline, self.route(message, to, tenant), message, tenant)

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
        executor = self.executor
        accepted = self._accept(message, to, tenant, send_now=wait > 0 and executor.attempts_here)
        return _result(accepted, await executor.submit(accepted, wait=wait))

    def _accept(
        self,
        message: Message,
        to: Sequence[str | Channel] | None,
        tenant: str | None,
        *,
        send_now: bool,
    ) -> Accepted:
        channels = self.route(message, to, tenant)
        return self.outbox.accept(message, channels, tenant=tenant, send_now=send_now)

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
        return self.pipeline.bridge.run(self.asend_many(messages, to, tenant=tenant, wait=wait))

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
        return self.pipeline.bridge.run(
            self.aemit_many(events, tenant=tenant, severity=severity, to=to, wait=wait)
        )

    def send(
        self,
        message: Message,
        to: Sequence[str | Channel] | None = None,
        *,
        tenant: str | None = None,
        wait: float | None = None,
    ) -> SendResult:
        """Blocking twin of :meth:`asend` (not from inside a running event loop).

        ``wait=0`` with this process's executor only stores the rows: that is done
        here, on the calling thread, without starting the notifier's event loop (a
        command that queues a notification and exits does not pay for one).
        """
        wait = self.wait if wait is None else wait
        executor = self.executor
        if wait == 0 and isinstance(executor, LocalExecutor):

            def queue() -> SendResult:
                accepted = self._accept(message, to, tenant, send_now=False)
                return _result(accepted, executor.queue(accepted))

            queued = self.pipeline.bridge.inline(queue)
            if queued is not None:
                return queued
        return self.pipeline.bridge.run(self.asend(message, to, tenant=tenant, wait=wait))

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
        message = self.message_for(event, data or {}, severity)
        return self.send(message, to, tenant=tenant, wait=wait)

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
        return self.pipeline.bridge.run(self.aretry(ids, wait=wait))

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
        import asyncio  # here: a notifier that only queues never imports it

        return await self.pipeline.run_worker(
            stop or asyncio.Event(),
            once=once,
            concurrency=concurrency,
            grace=grace,
            poll=poll,
            on_result=on_result,
            on_flight=on_flight,
        )


def _result(accepted: Accepted, attempted: Sequence[DeliveryResult]) -> SendResult:
    """A send's result, read after the write: grouped deliveries learn their reason there."""
    deliveries = accepted.ordered([*accepted.results, *attempted])
    return SendResult(message_id=accepted.message_id, deliveries=deliveries)


def _hostname() -> str:
    """This host's name, for the owner of claimed rows (``socket`` is ~3 ms to import)."""
    if hasattr(os, "uname"):
        return os.uname().nodename  # what socket.gethostname() returns on POSIX
    import socket

    return socket.gethostname()
