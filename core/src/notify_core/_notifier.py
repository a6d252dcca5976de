"""The library API: ``Notifier``, the one object callers and the CLI talk to."""

from __future__ import annotations

import asyncio
import concurrent.futures
import fnmatch
import json
import logging
import os
import secrets
import socket
import threading
import time
import weakref
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._channel import Channel
from ._config import DB_ENV, DEFAULT_DB, Config, find_config, load_config
from ._convert import message_from_json, message_to_json
from ._dispatch import DeliveryResult, Dispatcher, Job, attempt_cap, payload_record
from ._errors import ConfigError, InvalidTarget, NotifyError
from ._masking import Masker
from ._models import Message, Severity
from ._plugins import Providers
from ._provider import Target
from ._reroute import REROUTE_ENV, parse_reroute
from ._store import DeliveryRow, NewDelivery, Store, new_id
from ._template import default_message

if TYPE_CHECKING:
    import httpx

    from ._clients import Clients

ADHOC_PREFIX = "adhoc:"
log = logging.getLogger("notify")
T = TypeVar("T")


@attrs.frozen
class SendResult:
    """What became of one message: a result per channel it was routed to."""

    message_id: str
    deliveries: tuple[DeliveryResult, ...]

    @property
    def ok(self) -> bool:
        """True when every delivery was delivered (or deliberately skipped)."""
        return bool(self.deliveries) and all(d.ok for d in self.deliveries)

    def by_status(self, status: str) -> list[DeliveryResult]:
        return [d for d in self.deliveries if d.status == status]


@attrs.frozen
class PlannedDelivery:
    """What ``--dry-run`` shows: where a message would go and the masked payload."""

    channel: str
    tenant: str | None
    provider: str
    target: str
    payload: Mapping[str, Any]
    skip: str | None = None


@attrs.frozen
class _Prepared:
    channel: Channel
    target: Target
    masker: Masker
    display: str


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _falsy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("0", "false", "no", "off")


class Notifier:
    """Sends messages to channels through the durable outbox.

    ``send``/``emit`` write one delivery per routed channel to the store *before*
    sending, attempt them at once, and wait up to ``wait`` seconds for final
    outcomes; what still waits for a retry then stays queued for ``notify worker``.
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
    ) -> None:
        self.env = os.environ if env is None else env
        self.providers = providers or Providers.discover(self.env)
        base = config or Config()
        self.config = attrs.evolve(base, channels=(*base.channels, *channels))
        self.db_path = str(db or self.env.get(DB_ENV) or self._config_db() or DEFAULT_DB)
        self.wait = self.config.wait if wait is None else wait
        self.concurrency = concurrency or self.config.concurrency
        self._transport = transport
        # parsed now: a malformed NOTIFY_REROUTE must fail before anything is stored
        self._reroute = (
            dict(reroute) if reroute is not None else parse_reroute(self.env.get(REROUTE_ENV))
        )
        self._store: Store | None = None
        self._prepared: dict[str, _Prepared] = {}
        self._runtime_: _Runtime | None = None
        self._loop_thread: _LoopThread | None = None
        self._loop_lock = threading.Lock()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, **kwargs: Any) -> Notifier:
        """Load ``path`` (or ``$NOTIFY_CONFIG``, or ``./notify.toml``)."""
        env = kwargs.get("env")
        found = find_config(path, env)
        if found is None:
            raise ConfigError(
                "no configuration: pass --config, set NOTIFY_CONFIG, or create ./notify.toml"
            )
        providers = kwargs.pop("providers", None) or Providers.discover(env)
        return cls(config=load_config(found, providers, env), providers=providers, **kwargs)

    # -- resources ------------------------------------------------------------------

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.db_path)
        return self._store

    def _config_db(self) -> str | None:
        """``[notify].db``, relative to the configuration file's folder, not the shell's."""
        db = self.config.db
        if db and db != ":memory:" and os.path.exists(self.config.source):
            return os.path.join(os.path.dirname(os.path.abspath(self.config.source)), db)
        return db

    @property
    def lease(self) -> float:
        """How long a claim holds: never shorter than one attempt can last.

        An attempt is cut off at :func:`attempt_cap`; a lease shorter than that would let
        a second worker take a delivery still being sent.
        """
        longest = max((c.timeout for c in self.config.all_channels()), default=10.0)
        return max(self.config.lease, attempt_cap(longest) + 1)

    def _clients(self) -> Clients:
        from ._clients import Clients

        return Clients(
            transport=self._transport, concurrency=self.concurrency, reroute=self._reroute
        )

    def _runtime(self) -> _Runtime:
        """Clients and dispatcher for the running event loop, kept between sends.

        Reusing them keeps connections alive and makes the concurrency bound global to
        this notifier, however many ``asend`` calls run at once.
        """
        loop = asyncio.get_running_loop()
        runtime = self._runtime_
        if runtime is None or runtime.loop is not loop:
            clients = self._clients()
            runtime = self._runtime_ = _Runtime(loop, clients, self._dispatcher(clients))
            if self._loop_thread is not None and self._loop_thread.loop is loop:
                self._loop_thread.closers.append(clients.aclose)
        return runtime

    def _dispatcher(self, clients: Clients, concurrency: int | None = None) -> Dispatcher:
        return Dispatcher(
            self.store,
            self.providers,
            clients,
            owner=self.owner,
            concurrency=concurrency or self.concurrency,
            lease=self.lease,
            auto_disable_after=self.config.auto_disable_after,
        )

    def close(self) -> None:
        """Close clients, the private loop of the blocking API, and the store."""
        if self._loop_thread is not None:
            self._loop_thread.shutdown()
            self._loop_thread = None
        self._runtime_ = None
        if self._store is not None:
            self._store.close()
            self._store = None

    async def aclose(self) -> None:
        await self._close_runtime()
        self.close()

    async def _close_runtime(self) -> None:
        runtime, self._runtime_ = self._runtime_, None
        if runtime is not None and runtime.loop is asyncio.get_running_loop():
            await runtime.clients.aclose()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine for the blocking API on this notifier's private loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            coro.close()
            raise RuntimeError(
                "Notifier.send/emit/retry cannot run inside an event loop; "
                "await asend/aemit/aretry instead"
            )
        with self._loop_lock:  # threads sharing a notifier share its one loop
            if self._loop_thread is None:
                self._loop_thread = _LoopThread()
                # a notifier dropped without close() still closes its connections, at the
                # latest when the interpreter exits (no "unclosed client session" noise)
                weakref.finalize(self, self._loop_thread.shutdown)
            loop_thread = self._loop_thread
        return loop_thread.run(coro)

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

    # -- channels and routing -------------------------------------------------------

    def channels(self, tenant: str | None = None) -> list[Channel]:
        """The channels a tenant's messages may go to: its own, else the root ones."""
        if tenant and self.config.tenants.get(tenant):
            return list(self.config.tenants[tenant])
        return list(self.config.channels)

    def channel(self, name: str, tenant: str | None = None) -> Channel:
        for channel in self.channels(tenant):
            if channel.name == name:
                return channel
        if tenant:
            for channel in self.config.channels:
                if channel.name == name:
                    return channel
        known = ", ".join(c.name for c in self.channels(tenant)) or "none"
        raise ConfigError(f"unknown channel {name!r} (configured: {known})")

    def route(
        self, message: Message, to: Sequence[str | Channel] | None = None, tenant: str | None = None
    ) -> list[Channel]:
        """Explicit ``to`` wins; otherwise channels whose events and severity floor match."""
        if to:
            return [c if isinstance(c, Channel) else self.channel(c, tenant) for c in to]
        return [
            c
            for c in self.channels(tenant)
            if message.severity >= c.min_severity
            and any(fnmatch.fnmatchcase(message.event, p) for p in c.events)
        ]

    def prepare(self, channel: Channel) -> _Prepared:
        """Validate a channel's destination once and remember its secrets."""
        prepared = self._prepared.get(channel.key)
        if prepared is None or prepared.channel != channel:
            try:
                target = self.providers.validate(channel)
            except InvalidTarget as exc:
                where = f"tenants.{channel.tenant}.channels" if channel.tenant else "channels"
                if channel.adhoc:
                    raise
                raise ConfigError(
                    str(exc), source=self.config.source, path=f"{where}.{channel.name}.{exc.key}"
                ) from None
            prepared = _Prepared(
                channel,
                target,
                self.providers.masker(channel, target),
                self.providers.display(channel, target),
            )
            self._prepared[channel.key] = prepared
        return prepared

    def skip_reason(self, channel: Channel) -> str | None:
        """Why a delivery to ``channel`` is not attempted (a kill switch), or None."""
        return self._switch_reason(channel) or self.store.off_reason(channel.key)

    def _switch_reason(self, channel: Channel) -> str | None:
        """Kill switches set in the environment or the configuration."""
        if _truthy(self.env.get("NOTIFY_DISABLED")):
            return "NOTIFY_DISABLED is set"
        switch = f"NOTIFY_{channel.provider.upper().replace('-', '_')}_ENABLED"
        if _falsy(self.env.get(switch)):
            return f"{switch}={self.env[switch]}"
        if not channel.enabled:
            return "disabled in configuration (enabled = false)"
        return None

    def accept_reason(
        self, channel: Channel, message: Message, tenant: str | None, now: float
    ) -> str | None:
        """Why a new delivery is recorded as skipped: kill switch, silence or cooldown."""
        reason = self.skip_reason(channel)
        if reason:
            return reason
        for silence in self.store.active_silences(now):
            if silence.matches(message.event, channel.name, tenant):
                why = f": {silence.reason}" if silence.reason else ""
                until = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(silence.until))
                return f"silenced by {silence.id} until {until}{why}"
        if channel.cooldown:
            repeat = self.store.repeat_of(
                channel.name, tenant, message.effective_dedup_key(), now - channel.cooldown
            )
            if repeat:
                return f"cooldown: repeats delivery {repeat} within {channel.cooldown:g}s"
        return None

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
        for channel in self.route(message, to, tenant):
            prepared = self.prepare(channel)
            payload = self.providers.build(_for_tenant(channel, tenant), message, "dry-run")
            planned.append(
                PlannedDelivery(
                    channel=channel.name,
                    tenant=channel.tenant,
                    provider=channel.provider,
                    target=prepared.display,
                    payload=json.loads(payload_record(payload, prepared.masker)),
                    skip=self._env_skip(channel),
                )
            )
        return planned

    def _env_skip(self, channel: Channel) -> str | None:
        """The skip a dry run can foresee without creating a store that does not exist."""
        if self._store is None and not os.path.exists(self.db_path):
            return self._switch_reason(channel)
        return self.skip_reason(channel)

    async def asend(
        self,
        message: Message,
        to: Sequence[str | Channel] | None = None,
        *,
        tenant: str | None = None,
        wait: float | None = None,
    ) -> SendResult:
        """Store one delivery per routed channel, then deliver and wait (bounded)."""
        wait = self.wait if wait is None else wait
        message_id = new_id()
        channels = self.route(message, to, tenant)
        prepared = [self.prepare(c) for c in channels]  # every target valid, or nothing stored
        rows: list[NewDelivery] = []
        jobs: list[Job] = []
        results: list[DeliveryResult] = []
        message_json = message_to_json(message)
        now = time.time()
        for prep in prepared:
            channel = prep.channel
            delivery_id = new_id()
            row_tenant = tenant if not channel.adhoc else None
            payload = self.providers.build(_for_tenant(channel, row_tenant), message, delivery_id)
            skip = self.accept_reason(channel, message, row_tenant, now)
            status = "skipped" if skip else ("sending" if wait > 0 else "pending")
            rows.append(
                NewDelivery(
                    id=delivery_id,
                    message_id=message_id,
                    event=message.event,
                    severity=message.severity.value,
                    tenant=row_tenant,
                    channel=channel.name,
                    provider=channel.provider,
                    target=prep.display,
                    message=prep.masker.text(message_json),
                    payload=payload_record(payload, prep.masker),
                    status=status,
                    dedup_key=message.effective_dedup_key(),
                    last_error=skip,
                )
            )
            if skip:
                results.append(
                    DeliveryResult(
                        id=delivery_id,
                        channel=channel.name,
                        tenant=channel.tenant,
                        provider=channel.provider,
                        status="skipped",
                        reason=skip,
                    )
                )
            elif wait > 0:
                jobs.append(self._job(delivery_id, prep, message, payload, 0))
            else:
                results.append(
                    DeliveryResult(
                        id=delivery_id,
                        channel=channel.name,
                        tenant=channel.tenant,
                        provider=channel.provider,
                        status="pending",
                        reason="queued",
                    )
                )
        # concurrent sends share one commit; each still waits for its own before sending
        await self._runtime().dispatcher.writer.call(
            self.store.add, rows, owner=self.owner, lease=self.lease + wait
        )
        if len(jobs) == 1:  # the common case: no task and no gather for one channel
            results.append(
                await self._runtime().dispatcher.run_one(jobs[0], deadline=time.time() + wait)
            )
        elif jobs:
            results += await self._runtime().dispatcher.run(jobs, deadline=time.time() + wait)
        order = {r.id: i for i, r in enumerate(rows)}
        results.sort(key=lambda r: order[r.id])
        return SendResult(message_id=message_id, deliveries=tuple(results))

    def send(
        self,
        message: Message,
        to: Sequence[str | Channel] | None = None,
        *,
        tenant: str | None = None,
        wait: float | None = None,
    ) -> SendResult:
        """Blocking twin of :meth:`asend` (not from inside a running event loop)."""
        return self._run(self.asend(message, to, tenant=tenant, wait=wait))

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
        return self._run(
            self.aemit(event, data, tenant=tenant, severity=severity, to=to, wait=wait)
        )

    def _job(
        self, delivery_id: str, prep: _Prepared, message: Message, payload: Any, attempts: int
    ) -> Job:
        channel = prep.channel
        spec = self.providers.spec(channel.provider)
        return Job(
            id=delivery_id,
            channel=channel,
            target=prep.target,
            message=message,
            payload=payload,
            masker=prep.masker,
            rate=channel.rate or spec.default_rate,
            retry=channel.retry or spec.default_retry,
            attempts=attempts,
        )

    async def aretry(
        self, ids: Sequence[str], *, wait: float | None = None
    ) -> list[DeliveryResult]:
        """Requeue failed (or skipped) deliveries and attempt them now, keeping their ids.

        Each keeps its history; its payload is rebuilt from the stored message and the
        channel's *current* configuration, so a fixed URL takes effect.
        """
        wait = self.wait if wait is None else wait
        self.store.requeue(ids)
        rows = self.store.claim_ids(self.owner, ids, lease=self.lease + wait)
        jobs: list[Job] = []
        results: list[DeliveryResult] = []
        for row in rows:
            job = self.admit(row)
            if isinstance(job, DeliveryResult):
                results.append(job)
            else:
                job.budget_from = row.attempts
                jobs.append(job)
        if jobs:
            results += await self._runtime().dispatcher.run(jobs, deadline=time.time() + wait)
        return results

    def retry(self, ids: Sequence[str], *, wait: float | None = None) -> list[DeliveryResult]:
        """Blocking twin of :meth:`aretry`."""
        return self._run(self.aretry(ids, wait=wait))

    # -- the worker -----------------------------------------------------------------

    def admit(self, row: DeliveryRow) -> Job | DeliveryResult:
        """A claimed delivery as a job, or its end (failed or skipped) if it cannot go.

        Kill switches and manual or automatic disables are checked again here, when it is
        about to be sent (a worker, a retry); silences and cooldowns were decided when it
        was accepted.
        """
        job = self.job_for(row)
        status, reason = ("failed", job) if isinstance(job, str) else ("skipped", None)
        if not isinstance(job, str):
            reason = self.skip_reason(job.channel)
            if reason is None:
                return job
        assert reason is not None
        self.store.finish_without_attempt(row.id, status=status, reason=reason)
        return DeliveryResult(
            id=row.id,
            channel=row.channel,
            tenant=row.tenant,
            provider=row.provider,
            status=status,  # type: ignore[arg-type]
            attempts=row.attempts,
            reason=reason,
        )

    def job_for(self, row: DeliveryRow) -> Job | str:
        """Rebuild a stored delivery as a job, or say why it cannot be attempted."""
        if row.channel.startswith(ADHOC_PREFIX):
            return (
                "ad hoc --url targets are secret and not stored; only the process "
                "that sent it could retry it"
            )
        try:
            channel = self.channel(row.channel, row.tenant)
        except NotifyError:
            return f"channel {row.channel_key!r} is no longer configured"
        try:
            prep = self.prepare(channel)
            message = message_from_json(row.message)
            payload = self.providers.build(_for_tenant(channel, row.tenant), message, row.id)
        except NotifyError as exc:
            return str(exc)
        return self._job(row.id, prep, message, payload, row.attempts)

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
        stop = stop or asyncio.Event()
        concurrency = concurrency or self.concurrency
        clients = self._clients()
        dispatcher = self._dispatcher(clients, concurrency)
        tasks: set[asyncio.Task[DeliveryResult]] = set()
        totals: dict[str, int] = {"delivered": 0, "failed": 0, "pending": 0, "skipped": 0}

        def collect(task: asyncio.Task[DeliveryResult]) -> None:
            tasks.discard(task)
            if on_flight is not None:
                on_flight(len(tasks))
            if task.cancelled():
                return
            error = task.exception()
            if error is not None:
                # the delivery stays leased and comes back when the lease ends; say why
                totals["errors"] = totals.get("errors", 0) + 1
                log.warning(
                    "delivery %s: %s: %s (it will be retried when its lease ends)",
                    task.get_name(),
                    type(error).__name__,
                    error,
                )
                return
            result = task.result()
            totals[result.status] = totals.get(result.status, 0) + 1
            if on_result is not None:
                on_result(result)

        stopper = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                free = concurrency * 2 - len(tasks)
                rows = (
                    self.store.claim(self.owner, limit=free, lease=self.lease) if free > 0 else []
                )
                for row in rows:
                    job = self.admit(row)
                    if isinstance(job, DeliveryResult):
                        totals[job.status] += 1
                        if on_result is not None:
                            on_result(job)
                        continue
                    task = asyncio.create_task(dispatcher.run_one(job, deadline=0.0), name=job.id)
                    tasks.add(task)
                    task.add_done_callback(collect)
                if rows and on_flight is not None:
                    on_flight(len(tasks))
                if once and not rows and not tasks:
                    break
                if rows and free > 0:
                    continue
                waiters: set[asyncio.Future[Any]] = {stopper, *tasks}
                await asyncio.wait(waiters, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if tasks:
                _, still = await asyncio.wait(set(tasks), timeout=grace)
                for task in still:
                    task.cancel()
                if still:
                    await asyncio.wait(still)
            await clients.aclose()
        return totals


@attrs.frozen
class _Runtime:
    loop: asyncio.AbstractEventLoop
    clients: Clients
    dispatcher: Dispatcher


class _LoopThread:
    """An event loop in a daemon thread: the engine of the blocking API.

    One loop for the notifier's life (instead of ``asyncio.run`` per call) keeps HTTP
    connections alive between blocking sends, the way a training loop calls them.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="notify", daemon=True)
        self.thread.start()
        #: async cleanups (the runtime's HTTP clients) run on this loop before it stops
        self.closers: list[Callable[[], Coroutine[Any, Any, None]]] = []

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            # Ctrl-C while waiting: cancel, so in-flight deliveries hand their leases back
            future.cancel()
            concurrent.futures.wait([future], timeout=5)
            raise

    def shutdown(self) -> None:
        """Close what runs on the loop, then the loop; safe to call twice (and at exit)."""
        if self.loop.is_closed():
            return
        closers, self.closers = self.closers, []
        for close in closers:
            future = asyncio.run_coroutine_threadsafe(close(), self.loop)
            concurrent.futures.wait([future], timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


def _for_tenant(channel: Channel, tenant: str | None) -> Channel:
    """The channel as a payload builder should see it when a tenant falls back to root.

    The delivery belongs to the tenant (its envelope, its Slack context line); health,
    buckets and the log keep the root channel's own key.
    """
    if tenant is None or channel.tenant == tenant:
        return channel
    return attrs.evolve(channel, tenant=tenant)


def adhoc_channel(
    url: str,
    provider: str,
    settings: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> Channel:
    """A channel for ``notify send --url``: not stored in any configuration."""
    return Channel(
        name=f"{ADHOC_PREFIX}{provider}",
        provider=provider,
        url=url,
        settings=dict(settings or {}),
        options=dict(options or {}),
        adhoc=True,
    )
