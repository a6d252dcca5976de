"""The outbox step: a routed message becomes delivery rows and jobs; a stored row, a job again.

Rows are what the store keeps (masked: the message, the payload, the target's display);
jobs are what the dispatcher sends (secrets included, memory only). Each delivery is
built here once per attempt series: validated target, the provider's payload, the
acceptance verdict. A configured channel that cannot be built (a bad URL, a template
naming a key the event lacks) becomes a failed delivery with its reason, so the other
channels of the message still go out; an ad hoc ``--url`` that cannot be built is the
caller's error and raises.

A delivery the provider threads (``thread_key``) is built with its thread's metadata as
stored now, and its job can build it again when an attempt starts (the dispatcher does,
once the thread's first message is delivered).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._acceptance import Acceptance
from ._channel import Channel
from ._clock import Clock
from ._convert import message_from_json, message_to_json
from ._errors import ConfigError, NotifyError
from ._job import Job, ThreadRef
from ._masking import Masker, masked_url, url_secrets
from ._models import Message
from ._plugins import Providers
from ._provider import Payload
from ._results import DeliveryResult
from ._routing import ADHOC_PREFIX, Router, for_tenant
from ._store import DeliveryRow, DeliveryStatus, GroupRow, NewDelivery, Store, new_id
from ._targets import PreparedChannel, Targets

if TYPE_CHECKING:  # grouping loads when a channel groups: not for every send
    from ._grouping import Hold


@attrs.frozen
class Accepted:
    """One message accepted: the rows to store, the jobs to send now, the results known already."""

    message_id: str
    rows: list[NewDelivery]
    jobs: list[Job]
    results: list[DeliveryResult]
    #: deliveries to grouping channels: their rows wait for the group's answer (:meth:`write`)
    holds: list[Hold] = attrs.field(factory=list)

    def ordered(self, results: Sequence[DeliveryResult]) -> tuple[DeliveryResult, ...]:
        """``results`` in the order the channels were routed."""
        order = {row.id: i for i, row in enumerate(self.rows)}
        return tuple(sorted(results, key=lambda r: order[r.id]))

    def write(self, store: Store, *, owner: str | None = None, lease: float = 60.0) -> None:
        """Store the rows, and the grouped ones' items, in one transaction.

        A grouped delivery's row records where its message went (the group, and when it
        goes out): known only once its group has been read, in this same transaction.
        """
        if not self.holds:
            store.add(self.rows, owner=owner, lease=lease)
            return
        from ._grouping import take

        now = store.clock.time()
        with store.transaction():
            for hold in self.holds:
                reason = take(store, hold, now)
                row = self.rows[hold.row] = attrs.evolve(self.rows[hold.row], last_error=reason)
                self.results[:] = [
                    attrs.evolve(r, reason=reason) if r.id == row.id else r for r in self.results
                ]
            store.add(self.rows, owner=owner, lease=lease)


@attrs.frozen
class _Built:
    """One channel's part of a message before its verdict: built, or why it cannot be."""

    id: str
    channel: Channel
    tenant: str | None
    prepared: PreparedChannel | None
    payload: Payload | None
    error: str
    thread_key: str | None = None


@attrs.frozen
class Unsendable:
    """Why a stored delivery can no longer be attempted."""

    reason: str


def payload_record(payload: Payload, masker: Masker) -> str:
    """The payload as stored and shown: body and headers, every secret masked."""
    body = payload.body
    head = {
        "method": payload.method,
        "url": masker.text(payload.url) if payload.url else None,
        "headers": {
            k: "****" if k.lower() != "content-type" else v for k, v in payload.headers.items()
        },
    }
    if not isinstance(body, bytes | str):
        # the body as it is sent, serialised once already: stored as it is when it holds
        # nothing to mask (the common case), instead of walked and serialised again
        sent = payload.content().decode()
        if masker.untouched(sent):
            return json.dumps(head, ensure_ascii=False)[:-1] + ', "body": ' + sent + "}"
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    # value by value, never over the serialised text: a short secret-looking value
    # (a query flag) could match JSON syntax and corrupt the record
    return json.dumps({**head, "body": masker.data(body)}, ensure_ascii=False)


class Outbox:
    def __init__(
        self,
        providers: Providers,
        router: Router,
        targets: Targets,
        acceptance: Acceptance,
        clock: Clock,
        store: Callable[[], Store] | None = None,
    ) -> None:
        self.providers = providers
        self.router = router
        self.targets = targets
        self.acceptance = acceptance
        self.clock = clock
        #: where threads' metadata is read (None: nothing is threaded, e.g. a dry run)
        self.store = store

    def job(
        self,
        delivery_id: str,
        prep: PreparedChannel,
        message: Message,
        payload: Payload,
        *,
        tenant: str | None = None,
        thread_key: str | None = None,
    ) -> Job:
        channel = prep.channel
        spec = self.providers.spec(channel.provider)
        thread = None
        if thread_key is not None:
            for_build = for_tenant(channel, tenant)

            def build(data: Mapping[str, Any] | None) -> Payload:
                return self.providers.build(for_build, message, delivery_id, prep.target, data)

            thread = ThreadRef(channel=channel.name, tenant=tenant, key=thread_key, build=build)
        return Job(
            id=delivery_id,
            channel=channel,
            target=prep.target,
            message=message,
            payload=payload,
            masker=prep.masker,
            rate=channel.rate or spec.default_rate,
            retry=channel.retry or spec.default_retry,
            thread=thread,
            since=self.clock.time(),
        )

    def thread_data(
        self, channel: Channel, tenant: str | None, key: str | None
    ) -> dict[str, Any] | None:
        """What the store holds for a thread now (None without a key or a store)."""
        if key is None or self.store is None:
            return None
        return self.store().thread(channel.name, tenant, key)

    def accept(
        self,
        message: Message,
        channels: Sequence[Channel],
        *,
        tenant: str | None,
        send_now: bool,
    ) -> Accepted:
        """Rows for every routed channel; jobs for those to attempt now (``send_now``).

        Every channel is built before any verdict is asked for: an ad hoc target that
        cannot be built raises before the store is even opened.
        """
        now = self.clock.time()
        message_id = new_id(now)
        built = [self._build(channel, message, tenant, new_id(now)) for channel in channels]
        message_json = message_to_json(message)
        rows: list[NewDelivery] = []
        jobs: list[Job] = []
        results: list[DeliveryResult] = []
        holds: list[Hold] = []
        for one in built:
            channel, prep = one.channel, one.prepared
            status: DeliveryStatus
            if prep is None or one.payload is None:
                status, reason, record = "failed", one.error, None
                shown, masker = _unbuildable(channel)
            else:
                skip = self.acceptance.verdict(channel, message, one.tenant).skip
                hold = None
                if not skip and (channel.group or channel.digest):
                    from ._grouping import hold_for

                    hold = hold_for(
                        channel,
                        message,
                        tenant=one.tenant,
                        delivery_id=one.id,
                        message_id=message_id,
                        stored=prep.masker.text(message_json),
                        mask=prep.masker.text,
                        row=len(rows),
                    )
                if skip:
                    status, reason = "skipped", skip
                elif hold is not None:  # not sent alone: its reason comes from the group
                    status, reason = "skipped", "grouped"
                    holds.append(hold)
                else:
                    status, reason = ("sending", "") if send_now else ("pending", "queued")
                record = payload_record(one.payload, prep.masker)
                shown, masker = prep.display, prep.masker
            rows.append(
                NewDelivery(
                    id=one.id,
                    message_id=message_id,
                    event=message.event,
                    severity=message.severity.value,
                    tenant=one.tenant,
                    channel=channel.name,
                    provider=channel.provider,
                    target=shown,
                    message=masker.text(message_json),
                    payload=record,
                    status=status,
                    dedup_key=message.effective_dedup_key(),
                    last_error=reason if status in ("failed", "skipped") else None,
                    thread_key=one.thread_key,
                )
            )
            if status == "sending":
                assert prep is not None and one.payload is not None
                jobs.append(
                    self.job(
                        one.id,
                        prep,
                        message,
                        one.payload,
                        tenant=one.tenant,
                        thread_key=one.thread_key,
                    )
                )
            else:
                results.append(
                    DeliveryResult(
                        id=one.id,
                        channel=channel.name,
                        tenant=channel.tenant,
                        provider=channel.provider,
                        status=status,
                        reason=reason,
                    )
                )
        return Accepted(message_id, rows, jobs, results, holds)

    def direct(self, message: Message, channel: Channel | None, group: GroupRow) -> NewDelivery:
        """A group's summary as a ``pending`` delivery row, past acceptance.

        Its items were accepted one by one (silences, cooldowns, switches); the summary
        itself is not judged again, or it would be grouped into itself. Kill switches
        and disables still hold when a worker is about to send it. A channel that is no
        longer configured, or can no longer be built, gives a ``failed`` row with the
        reason, so the summary is in the log and ``notify retry`` can send it once fixed.
        """
        now = self.clock.time()
        delivery_id = new_id(now)
        message_json = message_to_json(message)
        status: DeliveryStatus = "pending"
        if channel is None:
            status, record = "failed", None
            where = f"{group.tenant}/{group.channel}" if group.tenant else group.channel
            error = f"channel {where!r} is no longer configured"
            shown, masker = "(unknown)", Masker([])
        else:
            one = self._build(channel, message, group.tenant, delivery_id)
            if one.prepared is None or one.payload is None:
                status, record, error = "failed", None, one.error
                shown, masker = _unbuildable(channel)
            else:
                record, error = payload_record(one.payload, one.prepared.masker), None
                shown, masker = one.prepared.display, one.prepared.masker
        return NewDelivery(
            id=delivery_id,
            message_id=new_id(now),
            event=message.event,
            severity=message.severity.value,
            tenant=group.tenant,
            channel=group.channel,
            provider=channel.provider if channel is not None else group.provider,
            target=shown,
            message=masker.text(message_json),
            payload=record,
            status=status,
            dedup_key=message.effective_dedup_key(),
            last_error=error,
        )

    def _build(
        self, channel: Channel, message: Message, tenant: str | None, delivery_id: str
    ) -> _Built:
        row_tenant = tenant if not channel.adhoc else None
        try:
            prep = self.targets.prepare(channel)
            as_built = for_tenant(channel, row_tenant)
            key = self.providers.thread_key(as_built, message, prep.target)
            payload = self.providers.build(
                as_built,
                message,
                delivery_id,
                prep.target,
                self.thread_data(channel, row_tenant, key),
            )
        except NotifyError as exc:
            if channel.adhoc:
                raise
            return _Built(delivery_id, channel, row_tenant, None, None, _named(channel, exc))
        return _Built(delivery_id, channel, row_tenant, prep, payload, "", key)

    def rebuild(self, row: DeliveryRow) -> Job | Unsendable:
        """A stored delivery as a job again, from the channel's *current* configuration."""
        if row.channel.startswith(ADHOC_PREFIX):
            return Unsendable(
                "ad hoc --url targets are secret and not stored; only the process "
                "that sent it could retry it"
            )
        try:
            channel = self.router.channel(row.channel, row.tenant)
        except NotifyError:
            return Unsendable(f"channel {row.channel_key!r} is no longer configured")
        try:
            prep = self.targets.prepare(channel)
            message = message_from_json(row.message)
            payload = self.providers.build(
                for_tenant(channel, row.tenant),
                message,
                row.id,
                prep.target,
                self.thread_data(channel, row.tenant, row.thread_key),
            )
        except NotifyError as exc:
            return Unsendable(str(exc))
        job = self.job(row.id, prep, message, payload, tenant=row.tenant, thread_key=row.thread_key)
        job.attempts = row.attempts
        job.budget_from = row.budget_from
        job.throttled = row.throttled
        job.since = row.budget_started
        return job


def _named(channel: Channel, exc: NotifyError) -> str:
    """The error as a reason that says which channel it is about."""
    if isinstance(exc, ConfigError) and exc.path:
        return str(exc)  # already ``notify.toml: channels.<name>.<key>: …``
    where = f"tenants.{channel.tenant}.channels" if channel.tenant else "channels"
    return f"{where}.{channel.name}: {exc}"


def _unbuildable(channel: Channel) -> tuple[str, Masker]:
    """How a channel that failed validation is shown: nothing of its URL but the host.

    A URL of the wrong shape cannot say which part of it is the secret, so every path
    segment and the query are masked; so is every string the channel's keys hold.
    """
    secrets = [v for v in channel.options.values() if isinstance(v, str)]
    if channel.url:
        secrets += url_secrets(channel.url)
    return (masked_url(channel.url) if channel.url else "(invalid)"), Masker(secrets)
