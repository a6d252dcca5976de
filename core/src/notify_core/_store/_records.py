"""The records the store keeps, shared by every backend and by the results callers see.

One definition of the delivery statuses (:data:`DeliveryStatus`) serves the database
constraint, the store's rows and :class:`~notify_core.DeliveryResult`, so a status can
never be spelt two ways.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal, TypeVar, get_args

import attrs

DeliveryStatus = Literal["pending", "sending", "delivered", "failed", "skipped"]
#: Every status, in lifecycle order.
STATUSES: tuple[DeliveryStatus, ...] = get_args(DeliveryStatus)
#: Statuses a delivery never leaves by itself (``notify retry`` may requeue them).
FINAL: frozenset[DeliveryStatus] = frozenset({"delivered", "failed", "skipped"})
#: Statuses that hold work still to be done.
OPEN: frozenset[DeliveryStatus] = frozenset({"pending", "sending"})

#: How much of a provider's answer an attempt keeps.
EXCERPT_LIMIT = 2048


def new_id(now: float) -> str:
    """Time-ordered and unguessable: 11 hex digits of milliseconds, then 10 random ones."""
    return f"{int(now * 1000):011x}{os.urandom(5).hex()}"


@attrs.frozen(kw_only=True)
class NewDelivery:
    """A delivery as the outbox accepts it, before the store adds its bookkeeping."""

    id: str
    message_id: str
    event: str
    severity: str
    tenant: str | None
    channel: str
    provider: str
    target: str
    message: str
    payload: str | None
    status: DeliveryStatus
    dedup_key: str | None = None
    last_error: str | None = None
    #: the provider's thread key (``thread_key`` hook): deliveries sharing one wait for
    #: the first of them, and are built with what it left in the store
    thread_key: str | None = None


@attrs.frozen(kw_only=True)
class DeliveryRow:
    """A stored delivery: what it is, where it stands, and who holds its lease."""

    id: str
    message_id: str
    created: float
    updated: float
    event: str
    severity: str
    tenant: str | None
    channel: str
    provider: str
    target: str
    message: str
    payload: str | None
    status: DeliveryStatus
    attempts: int
    next_attempt: float | None
    lease_owner: str | None
    lease_until: float | None
    last_error: str | None
    last_status: int | None
    dedup_key: str | None
    meta: str | None
    thread_key: str | None = None
    #: attempts the provider answered "slow down" (429) since the budget began: they
    #: cost no retry budget, so a worker rebuilding the row must know how many there were
    throttled: int = 0
    #: attempts made before the current retry budget began (``notify retry`` grants a
    #: fresh one; attempt numbers keep counting)
    budget_from: int = 0
    #: when ``notify retry`` last requeued it: the retry deadline counts from then
    requeued: float | None = None

    @property
    def budget_started(self) -> float:
        """When the current retry budget began: acceptance, or the last manual retry."""
        return self.requeued if self.requeued is not None else self.created

    @property
    def channel_key(self) -> str:
        return f"{self.tenant}/{self.channel}" if self.tenant else self.channel


@attrs.frozen(kw_only=True)
class AttemptRow:
    """One try of one delivery, as the audit log keeps it (secrets already masked)."""

    delivery_id: str
    number: int
    started: float
    duration: float
    http_status: int | None
    outcome: str
    error: str | None
    response: str | None


ThreadStep = Literal["start", "join", "wait"]


@attrs.frozen(kw_only=True)
class ThreadTurn:
    """What a threaded delivery about to be attempted does (:meth:`Store.enter_thread`).

    ``start``: it is the thread's first message (no metadata yet, nobody ahead of it).
    ``join``: the thread exists and nothing before it is still open; ``data`` is what the
    thread's first message left.
    ``wait``: ``holder``, an earlier delivery of the same thread (or the one starting
    it), is still open; try again shortly (not before ``until``, the holder's next
    attempt, when it waits for a retry), so that this one goes into the thread, after
    it, instead of starting a second thread or overtaking it.
    """

    step: ThreadStep
    data: dict[str, Any] | None = None
    holder: str | None = None
    until: float | None = None


@attrs.frozen(kw_only=True)
class Silence:
    """Deliveries matching ``event`` (a glob), ``channel`` and ``tenant`` skip until ``until``."""

    id: str
    created: float
    until: float
    event: str
    channel: str | None
    tenant: str | None
    reason: str | None


@attrs.frozen(kw_only=True)
class ChannelState:
    """A channel's health and switches, shared by every process using the store."""

    channel: str
    disabled: bool = attrs.field(default=False, converter=bool)
    disabled_reason: str | None = None
    auto_disabled: bool = attrs.field(default=False, converter=bool)
    consecutive_failures: int = 0
    last_success: float | None = None
    last_failure: float | None = None
    last_error: str | None = None

    @property
    def off(self) -> bool:
        return self.disabled or self.auto_disabled


@attrs.frozen(kw_only=True)
class IdempotencyRecord:
    """A request key seen before: who holds it, and the answer once there is one.

    ``fingerprint`` identifies the request (method, path, body) so a key reused for a
    different request is refused instead of answered with someone else's result;
    ``answer`` is ``None`` while the first request is still being processed.
    """

    key: str
    fingerprint: str
    created: float
    status: int | None
    answer: str | None


@attrs.frozen(kw_only=True)
class StoredChannel:
    """A channel kept in the store (``notify channels add``, the API, the dashboard).

    ``spec`` is the channel's table as JSON, exactly as ``[channels.NAME]`` would hold
    it, *without* the provider-specific part: ``url``, the provider's option keys and
    ``settings`` live in ``secrets``, encrypted (a Fernet token, see
    :mod:`notify_core._secrets`), so the database never holds a credential in clear.
    ``target`` is the masked destination as the provider displays it, for listings
    that cannot decrypt. ``tenant`` is ``None`` for a root-level channel.
    """

    id: str
    tenant: str | None
    name: str
    provider: str
    spec: str
    secrets: str
    target: str
    description: str | None
    created: float
    updated: float
    created_by: str | None
    updated_by: str | None

    @property
    def key(self) -> str:
        return f"{self.tenant}/{self.name}" if self.tenant else self.name


#: What the audit of stored channels records.
AuditAction = Literal["created", "edited", "tested", "removed", "rekeyed"]


@attrs.frozen(kw_only=True)
class ChannelAudit:
    """Who did what to a stored channel, and when. ``detail`` is masked text.

    ``id`` is assigned by the store (0 before); it only grows.
    """

    at: float
    tenant: str | None
    channel: str
    action: AuditAction
    actor: str | None
    detail: str | None = None
    id: int = 0


R = TypeVar("R")


def columns(cls: type[Any]) -> tuple[str, ...]:
    """The column names of a record class, in declaration order (the SELECT order)."""
    return tuple(a.name for a in attrs.fields(cls))


def mapper(cls: type[R]) -> Any:
    """``row tuple → record`` for ``cls``: the one row mapping every query uses."""
    names = columns(cls)

    def to_record(row: Sequence[Any]) -> R:
        return cls(**dict(zip(names, row, strict=True)))

    return to_record
