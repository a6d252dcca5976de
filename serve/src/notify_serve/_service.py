"""What the API and the dashboard do, once: both are thin layers over this.

Everything goes through :class:`~notify_core.Notifier`'s public methods. Sends are
accepted with ``wait=0``: the rows are in the store before the answer and the
in-process worker (or any ``notify worker`` sharing the store) delivers them.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from datetime import datetime, timezone
from typing import Any

import attrs

from notify_core import (
    Action,
    Channel,
    DeliveryResult,
    DeliveryRow,
    Field,
    Message,
    Notifier,
    NotifyError,
    SendResult,
    Silence,
)

from ._alertmanager import alert_messages, fingerprint_of
from ._metrics import Metrics
from ._schemas import (
    AcceptedOut,
    AlertAccepted,
    AlertmanagerIn,
    AlertmanagerOut,
    AttemptOut,
    ChannelOut,
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    DeliveryRef,
    EventIn,
    MessageIn,
    SilenceIn,
    SilenceOut,
    StatusName,
    TestOut,
)


class ApiError(Exception):
    """An answer other than success: status and one line that names the problem."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def at(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, timezone.utc) if ts is not None else None


def epoch(when: datetime | None) -> float | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def encode_cursor(row: DeliveryRow) -> str:
    return base64.urlsafe_b64encode(f"{row.created!r}|{row.id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, _, delivery_id = text.partition("|")
        position = (float(created), delivery_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError(400, "cursor: not a cursor this server gave out") from None
    if not delivery_id or position[0] != position[0]:  # NaN
        raise ApiError(400, "cursor: not a cursor this server gave out")
    return position


def ref(result: DeliveryResult) -> DeliveryRef:
    return DeliveryRef(
        id=result.id,
        channel=result.channel,
        tenant=result.tenant,
        provider=result.provider,
        status=result.status,
        attempts=result.attempts,
        reason=result.reason,
        http_status=result.http_status,
    )


def delivery_out(row: DeliveryRow) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        message_id=row.message_id,
        created=at(row.created),  # type: ignore[arg-type]
        updated=at(row.updated),  # type: ignore[arg-type]
        event=row.event,
        severity=row.severity,
        tenant=row.tenant,
        channel=row.channel,
        provider=row.provider,
        target=row.target,
        status=row.status,
        attempts=row.attempts,
        next_attempt=at(row.next_attempt) if row.status == "pending" else None,
        last_error=row.last_error,
        last_status=row.last_status,
        dedup_key=row.dedup_key,
        meta=json.loads(row.meta) if row.meta else None,
    )


class Service:
    def __init__(self, notifier: Notifier, metrics: Metrics, *, test_wait: float) -> None:
        self.notifier = notifier
        self.metrics = metrics
        self.test_wait = test_wait

    def _accepted(self, result: SendResult) -> AcceptedOut:
        self.metrics.results(result.deliveries)
        return AcceptedOut(
            message_id=result.message_id, deliveries=[ref(d) for d in result.deliveries]
        )

    # -- sending ---------------------------------------------------------------------

    async def event(self, body: EventIn) -> AcceptedOut:
        try:
            message = self.notifier.message_for(body.event, body.data, body.severity)
        except NotifyError as exc:
            raise ApiError(422, f"data: {exc}") from None
        return await self._send(message, None, body.tenant)

    async def message(self, body: MessageIn) -> AcceptedOut:
        spec = body.message
        try:
            message = Message(
                title=spec.title,
                body=spec.body,
                event=spec.event,
                severity=spec.severity,
                fields=[Field(f.name, f.value, f.short) for f in spec.fields],
                actions=[Action(a.label, a.url, a.style) for a in spec.actions],
                dedup_key=spec.dedup_key,
                tags=spec.tags,
                data=spec.data,
                state=spec.state,
            )
        except (TypeError, ValueError) as exc:
            raise ApiError(422, f"message: {exc}") from None
        return await self._send(message, body.channels, body.tenant)

    async def _send(
        self, message: Message, channels: list[str] | None, tenant: str | None
    ) -> AcceptedOut:
        if channels:
            for i, name in enumerate(channels):
                try:
                    self.notifier.channel(name, tenant)
                except NotifyError as exc:
                    raise ApiError(422, f"channels[{i}]: {exc}") from None
        try:
            result = await self.notifier.asend(message, channels, tenant=tenant, wait=0)
        except NotifyError as exc:
            raise ApiError(422, str(exc)) from None
        return self._accepted(result)

    async def alertmanager(self, payload: AlertmanagerIn, tenant: str | None) -> AlertmanagerOut:
        accepted = []
        for alert, message in zip(payload.alerts, alert_messages(payload), strict=True):
            result = await self.notifier.asend(message, tenant=tenant, wait=0)
            out = self._accepted(result)
            accepted.append(
                AlertAccepted(
                    fingerprint=fingerprint_of(alert),
                    state="trigger" if message.state == "trigger" else "resolve",
                    event=message.event,
                    message_id=out.message_id,
                    deliveries=out.deliveries,
                )
            )
        return AlertmanagerOut(alerts=len(payload.alerts), accepted=accepted)

    # -- the log ---------------------------------------------------------------------

    def deliveries(
        self,
        *,
        status: StatusName | None = None,
        channel: str | None = None,
        event: str | None = None,
        tenant: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[DeliveryRow], str | None]:
        # times travel as RFC 3339 with microseconds, rounded: compare to the microsecond,
        # so a delivery's own `created` passed back as `since` (or `until`) finds it (or not)
        rows = self.notifier.store.query(
            status=status,
            channel=channel,
            event=event,
            tenant=tenant,
            since=since - 1e-6 if since is not None else None,
            until=until - 1e-6 if until is not None else None,
            limit=limit + 1,
            before=decode_cursor(cursor) if cursor else None,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (encode_cursor(rows[-1]) if more and rows else None)

    def page(self, **filters: Any) -> DeliveryPage:
        rows, cursor = self.deliveries(**filters)
        return DeliveryPage(deliveries=[delivery_out(r) for r in rows], next_cursor=cursor)

    def row(self, delivery_id: str) -> DeliveryRow:
        row = self.notifier.store.get(delivery_id)
        if row is None:
            raise ApiError(404, f"no delivery {delivery_id!r}")
        return row

    def detail(self, delivery_id: str) -> DeliveryDetail:
        row = self.row(delivery_id)
        attempts = [
            AttemptOut(
                number=a.number,
                started=at(a.started),  # type: ignore[arg-type]
                duration_ms=round(a.duration * 1000, 1),
                http_status=a.http_status,
                outcome=a.outcome,
                error=a.error,
                response=a.response,
            )
            for a in self.notifier.store.attempts(row.id)
        ]
        return DeliveryDetail(
            **delivery_out(row).model_dump(),
            message=json.loads(row.message),
            payload=json.loads(row.payload) if row.payload else None,
            attempts_log=attempts,
        )

    async def retry(self, delivery_id: str) -> list[DeliveryRef]:
        row = self.row(delivery_id)
        if row.status not in ("failed", "skipped"):
            raise ApiError(
                409, f"delivery {row.id} is {row.status}; only failed or skipped ones are retried"
            )
        results = await self.notifier.aretry([row.id], wait=0)
        self.metrics.results(results)
        return [ref(r) for r in results]

    # -- channels --------------------------------------------------------------------

    def find_channel(self, name: str, tenant: str | None) -> Channel:
        for channel in self.notifier.config.all_channels():
            if channel.name == name and channel.tenant == tenant:
                return channel
        if tenant is None:
            raise ApiError(404, f"no channel {name!r}")
        raise ApiError(404, f"no channel {name!r} of tenant {tenant!r}")

    def channel_out(self, channel: Channel) -> ChannelOut:
        try:
            target = self.notifier.describe(channel)
        except NotifyError as exc:
            target = f"INVALID: {exc}"
        state = self.notifier.store.channel_state(channel.key)
        off = self.notifier.acceptance.off_reason(channel)
        health: Any
        if off is not None:
            health = "disabled"
        elif state.consecutive_failures or (
            state.last_failure is not None and (state.last_success or 0) < state.last_failure
        ):
            health = "failing"
        elif state.last_success is not None:
            health = "ok"
        else:
            health = "unknown"
        return ChannelOut(
            name=channel.name,
            tenant=channel.tenant,
            key=channel.key,
            provider=channel.provider,
            target=target,
            events=list(channel.events),
            min_severity=channel.min_severity.value,
            enabled_in_config=channel.enabled,
            health=health,
            state=off or "enabled",
            consecutive_failures=state.consecutive_failures,
            last_success=at(state.last_success),
            last_failure=at(state.last_failure),
            last_error=state.last_error,
        )

    def channels(self) -> list[ChannelOut]:
        return [self.channel_out(c) for c in self.notifier.config.all_channels()]

    def switch(
        self, name: str, tenant: str | None, enabled: bool, reason: str | None
    ) -> ChannelOut:
        channel = self.find_channel(name, tenant)
        self.notifier.store.set_enabled(channel.key, enabled, reason)
        return self.channel_out(channel)

    async def test(self, name: str, tenant: str | None) -> TestOut:
        """What ``notify test`` does: a labelled message to one channel, its answer shown."""
        channel = self.find_channel(name, tenant)
        message = Message(
            title=f"notify test: {channel.key}",
            body="This is a test notification sent from notify serve. No action is needed.",
            event="notify.test",
            fields={"channel": channel.key, "provider": channel.provider},
            dedup_key=f"notify.test:{channel.key}:{time.time()}",
        )
        result = await self.notifier.asend(message, [channel], tenant=tenant, wait=self.test_wait)
        self.metrics.results(result.deliveries)
        [delivery] = result.deliveries
        spec = self.notifier.providers.spec(channel.provider)
        if delivery.status == "delivered" and "resolve" in spec.capabilities:
            # an incident tool opened an incident for the test: close it again
            closed = await self.notifier.asend(
                attrs.evolve(message, state="resolve"),
                [channel],
                tenant=tenant,
                wait=self.test_wait,
            )
            self.metrics.results(closed.deliveries)
        attempts = self.notifier.store.attempts(delivery.id)
        return TestOut(delivery=ref(delivery), response=attempts[-1].response if attempts else None)

    # -- silences --------------------------------------------------------------------

    @staticmethod
    def silence_out(s: Silence) -> SilenceOut:
        return SilenceOut(
            id=s.id,
            event=s.event,
            channel=s.channel,
            tenant=s.tenant,
            reason=s.reason,
            created=at(s.created),  # type: ignore[arg-type]
            until=at(s.until),  # type: ignore[arg-type]
            active=s.until > time.time(),
        )

    def silences(self, everything: bool) -> list[SilenceOut]:
        found = self.notifier.store.silences(active_at=None if everything else time.time())
        return [self.silence_out(s) for s in found]

    def add_silence(self, body: SilenceIn) -> SilenceOut:
        now = time.time()
        if (body.duration is None) == (body.until is None):
            raise ApiError(422, "duration: give duration (seconds) or until, not both")
        until = now + body.duration if body.duration is not None else epoch(body.until)
        assert until is not None
        if until <= now:
            raise ApiError(422, "until: must be in the future")
        if body.channel is not None:
            try:
                self.notifier.channel(body.channel, body.tenant)  # a typo would silence nothing
            except NotifyError as exc:
                raise ApiError(422, f"channel: {exc}") from None
        made = Silence(
            id=f"{int(now * 1000):011x}{secrets.token_hex(5)}",  # time-ordered, as the CLI's
            created=now,
            until=until,
            event=body.event,
            channel=body.channel,
            tenant=body.tenant,
            reason=body.reason,
        )
        self.notifier.store.add_silence(made)
        return self.silence_out(made)

    def remove_silence(self, silence_id: str) -> None:
        if not self.notifier.store.remove_silence(silence_id):
            raise ApiError(404, f"no silence {silence_id!r}")
