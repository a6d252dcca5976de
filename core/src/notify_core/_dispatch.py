"""The dispatcher: attempts deliveries concurrently, paced, retried, and recorded.

Each delivery is its own task, so a slow or failing destination only ever delays its
own deliveries. A delivery waits for its destination's token *before* it takes one
of the global concurrency slots, so a rate-limited channel never holds slots that
another channel could use.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

import attrs

from ._channel import Channel, Rate, RetryPolicy
from ._http import exception_outcome
from ._masking import Masker
from ._models import Message
from ._plugins import Providers
from ._provider import Outcome, Payload, SendContext, Target
from ._ratelimit import Buckets
from ._retry import next_delay
from ._store import AttemptRow, Store
from ._writer import BatchWriter

if TYPE_CHECKING:
    from ._clients import Clients

DeliveryStatus = Literal["pending", "sending", "delivered", "failed", "skipped"]


@attrs.frozen(kw_only=True)
class DeliveryResult:
    """How one delivery (one message to one channel) stands."""

    id: str
    channel: str
    tenant: str | None
    provider: str
    status: DeliveryStatus
    attempts: int = 0
    reason: str = ""
    http_status: int | None = None
    next_attempt: float | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("delivered", "skipped")


@attrs.define(kw_only=True)
class Job:
    """Everything needed to attempt one delivery, secrets included (memory only)."""

    id: str
    channel: Channel
    target: Target
    message: Message
    payload: Payload
    masker: Masker
    rate: Rate
    retry: RetryPolicy
    attempts: int = 0
    #: attempts made before the current retry budget began (a manual ``notify retry``
    #: grants a fresh budget; the attempt numbers keep counting).
    budget_from: int = 0

    @property
    def destination(self) -> str:
        return destination_key(self.channel, self.target)


class Dispatcher:
    def __init__(
        self,
        store: Store,
        providers: Providers,
        clients: Clients,
        *,
        owner: str,
        concurrency: int = 32,
        lease: float = 60.0,
        auto_disable_after: int = 10,
    ) -> None:
        self.store = store
        self.providers = providers
        self.clients = clients
        self.owner = owner
        self.lease = lease
        self.auto_disable_after = auto_disable_after
        self.buckets = Buckets()
        self.writer = BatchWriter(store)
        self._noted_success: dict[str, float] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self.in_flight = 0

    async def run(self, jobs: Iterable[Job], *, deadline: float) -> list[DeliveryResult]:
        """Attempt every job, retrying in-process until ``deadline`` (epoch seconds)."""
        tasks = [asyncio.create_task(self.run_one(job, deadline=deadline)) for job in jobs]
        return list(await asyncio.gather(*tasks))

    async def run_one(self, job: Job, *, deadline: float) -> DeliveryResult:
        """Attempt a leased delivery until it ends, or until its next try is past ``deadline``.

        Cancelled (shutdown), it gives its lease back so another worker takes it now.
        """
        try:
            while True:
                result = await self._attempt(job, deadline)
                if result.status != "sending":
                    return result
                assert result.next_attempt is not None
                await asyncio.sleep(max(0.0, result.next_attempt - time.time()))
        except asyncio.CancelledError:
            self.store.release([job.id], self.owner)
            raise

    async def _attempt(self, job: Job, deadline: float) -> DeliveryResult:
        # One-time costs come before the token: creating a client (importing aiohttp,
        # building its pool) takes tens of milliseconds. Paid after the token, it makes
        # the first request leave late and the next one catch up with it: a burst the
        # bucket never granted (a strict server answers 429).
        client = self.clients.get(job.channel.verify_tls)
        bucket = self.buckets.get(job.destination, job.rate)
        await bucket.acquire()
        async with self._slots:
            self.in_flight += 1
            job.attempts += 1
            context = SendContext(
                delivery_id=job.id,
                attempt=job.attempts,
                timeout=job.channel.timeout,
                target=job.target,
            )
            started = time.time()
            t0 = time.perf_counter()
            try:
                outcome = await asyncio.wait_for(  # a hard cap, for plugins that hang
                    self.providers.send(job.channel, job.payload, context, client),
                    attempt_cap(job.channel.timeout),
                )
            except (OSError, TimeoutError) as exc:
                outcome = exception_outcome(exc, job.channel.timeout)
            except Exception as exc:
                if _is_http_error(exc):
                    outcome = exception_outcome(exc, job.channel.timeout)
                else:  # a plugin bug is recorded, never crashes the run
                    outcome = Outcome.failed(f"plugin error: {type(exc).__name__}: {exc}")
            finally:
                self.in_flight -= 1
            duration = time.perf_counter() - t0
            mask = job.masker.text
            attempt = AttemptRow(
                delivery_id=job.id,
                number=job.attempts,
                started=started,
                duration=duration,
                http_status=outcome.http_status,
                outcome=outcome.status,
                error=mask(outcome.reason) or None,
                response=mask(outcome.response_excerpt) or None,
            )
            # The slot is held until the outcome is committed, so a crash can repeat at
            # most `concurrency` deliveries: those sent but not yet recorded.
            return await self.writer.call(self._settle, job, outcome, attempt, deadline)

    def _settle(
        self, job: Job, outcome: Outcome, attempt: AttemptRow, deadline: float
    ) -> DeliveryResult:
        """Write the attempt and the delivery's new state; update channel health."""
        reason = attempt.error or ""
        meta = dict(job.masker.data(dict(outcome.meta))) if outcome.meta else None
        status: DeliveryStatus
        next_at: float | None = None
        counts_as_failure = outcome.disables
        if outcome.status == "delivered":
            status = "delivered"
        elif outcome.status == "retry" and (used := job.attempts - job.budget_from) < (
            job.retry.attempts
        ):
            next_at = time.time() + next_delay(job.retry, used, outcome.retry_after)
            status = "sending" if next_at <= deadline else "pending"
        else:
            status = "failed"
            if outcome.status == "retry":
                reason = f"gave up after {job.attempts - job.budget_from} attempts: {reason}"
                counts_as_failure = True
        lease_until = (next_at or 0) + self.lease if status == "sending" else None
        self.store.record_attempt(
            attrs.evolve(attempt, error=reason or None),
            status=status,
            owner=self.owner,
            next_attempt=next_at,
            lease_until=lease_until,
            meta=meta,
        )
        if status == "delivered":
            # a healthy channel's "last success" is refreshed at most once a second: it is
            # for humans, and writing it per delivery was a third of the store's work
            key = job.channel.key
            now = time.monotonic()
            if now - self._noted_success.get(key, -1.0) >= 1.0:
                self.store.note_success(key)
                self._noted_success[key] = now
        elif status == "failed" and counts_as_failure:
            self._noted_success.pop(job.channel.key, None)
            self.store.note_failure(job.channel.key, reason, disable_after=self.auto_disable_after)
        return DeliveryResult(
            id=job.id,
            channel=job.channel.name,
            tenant=job.channel.tenant,
            provider=job.channel.provider,
            status=status,
            attempts=job.attempts,
            reason=reason,
            http_status=outcome.http_status,
            next_attempt=next_at,
        )


def _is_http_error(exc: BaseException) -> bool:
    import httpx  # loaded by now: a request was just made

    return isinstance(exc, httpx.HTTPError)


def attempt_cap(timeout: float) -> float:
    """The hard limit on one attempt: the client's timeout, plus room for a plugin's work."""
    return timeout * 1.5 + 1


def destination_key(channel: Channel, target: Target) -> str:
    """What one token bucket paces: a provider's endpoint *and* the credentials used on it.

    Two PagerDuty channels post to one URL with different routing keys, and PagerDuty
    limits each key separately; a hash keeps the secrets out of the key.
    """
    scope = hashlib.sha256("\0".join(target.secrets).encode()).hexdigest()[:16]
    return f"{channel.provider} {target.url} {scope}"


def payload_record(payload: Payload, masker: Masker) -> str:
    """The payload as stored and shown: body and headers, every secret masked."""
    body = payload.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    record = {
        "method": payload.method,
        "url": masker.text(payload.url) if payload.url else None,
        "headers": {
            k: "****" if k.lower() != "content-type" else v for k, v in payload.headers.items()
        },
        # value by value, never over the serialised text: a short secret-looking value
        # (a query flag) could match JSON syntax and corrupt the record
        "body": masker.data(body),
    }
    return json.dumps(record, ensure_ascii=False)
