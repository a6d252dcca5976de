"""The store protocol, part by part: each backend implements every part.

:class:`~notify_core._store.Store` is their union (plus connection and transactions);
a part groups the calls one pipeline step needs, so a reader finds them together and
a backend can be written (and reviewed) a table at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from ._group_records import (
    CarriedItem,
    GroupItem,
    GroupRow,
    GroupSettlement,
    NewGroup,
    NewGroupItem,
)
from ._records import (
    AttemptRow,
    ChannelAudit,
    ChannelState,
    DeliveryRow,
    DeliveryStatus,
    IdempotencyRecord,
    NewDelivery,
    Silence,
    StoredChannel,
    ThreadTurn,
)


class Wakeups(Protocol):
    """Tells an idle worker that work was accepted, so it need not wait for its next poll."""

    async def wait(self, timeout: float) -> bool:
        """Return True when work may have arrived, False after ``timeout`` seconds."""
        ...

    async def aclose(self) -> None: ...


class OutboxStore(Protocol):
    """The outbox: deliveries accepted, claimed under a lease, attempted, ended."""

    def add(
        self, deliveries: Sequence[NewDelivery], *, owner: str | None = None, lease: float = 60.0
    ) -> None:
        """Insert deliveries in one transaction; ``sending`` ones are leased to ``owner``."""
        ...

    def claim(self, owner: str, *, limit: int, lease: float) -> list[DeliveryRow]:
        """Atomically lease up to ``limit`` due deliveries (pending, or with a dead lease)."""
        ...

    def claim_ids(self, owner: str, ids: Sequence[str], *, lease: float) -> list[DeliveryRow]:
        """Lease these deliveries now, if they are due or their lease is dead."""
        ...

    def record_attempt(
        self,
        attempt: AttemptRow,
        *,
        status: DeliveryStatus,
        owner: str | None,
        next_attempt: float | None = None,
        lease_until: float | None = None,
        meta: dict[str, Any] | None = None,
        throttled: bool = False,
    ) -> None:
        """Log one attempt and move its delivery on, in one transaction.

        ``status`` is final (``delivered``/``failed``), ``pending`` (released for whoever
        claims it at ``next_attempt``) or ``sending`` (kept leased by ``owner``).
        ``throttled`` (the provider said "slow down") adds one to the delivery's
        ``throttled`` count: such attempts cost no retry budget.
        """
        ...

    def finish(self, delivery_id: str, *, status: DeliveryStatus, reason: str) -> None:
        """End a delivery that will not be attempted (skipped, or its channel vanished)."""
        ...

    def release(self, ids: Iterable[str], owner: str) -> int:
        """Give back leased deliveries (shutdown, cancellation): due again at once."""
        ...

    def overdue(self, *, before: float, limit: int, pending: bool = True) -> list[str]:
        """Deliveries that should have started before ``before`` and have not; made due now.

        ``pending`` ones due by then and leases that ended by then, oldest first: their
        task was lost (a broker restart, a worker killed with its prefetched messages).
        They become ``pending`` with ``next_attempt`` now and no lease, and their ids are
        returned, so a sweep publishes each once and then leaves it alone for as long
        again. Nothing is claimed: whichever task comes first claims it. With
        ``pending=False`` only ended leases count (a queue with a backlog may still hold
        the tasks of the pending ones).
        """
        ...

    def requeue(self, ids: Iterable[str]) -> list[str]:
        """Make failed or skipped deliveries pending again, keeping id and history.

        Each gets a fresh retry budget (``budget_from`` = its attempts so far, no
        ``throttled`` ones) and deadline (``requeued`` = now).
        """
        ...

    def next_due(self) -> float | None:
        """When the earliest pending delivery or lease falls due."""
        ...

    def postpone(self, delivery_id: str, owner: str, *, until: float, reason: str) -> bool:
        """Give a leased delivery back, due at ``until``, without counting an attempt.

        For a delivery that must not go yet: it waits for its thread's first message, or
        (a task-queue executor) its send slot is further away than a worker should
        sleep, and ``next_attempt`` says when its task comes back, so a sweep
        (:meth:`overdue`) leaves it alone until then. ``reason`` is shown as its
        ``last_error`` meanwhile. False if ``owner`` no longer holds it.
        """
        ...


class ThreadStore(Protocol):
    """Threads: what a provider returned for a thread key (Slack's ``ts``), and whose turn it is."""

    def thread(self, channel: str, tenant: str | None, key: str) -> dict[str, Any] | None:
        """The stored metadata of one thread of a channel, or None."""
        ...

    def enter_thread(
        self, delivery_id: str, channel: str, tenant: str | None, key: str
    ) -> ThreadTurn:
        """Decide, atomically, whether this delivery starts, joins or waits for its thread.

        ``wait`` while another open (pending or sending) delivery of the same channel and
        key is starting the thread, or was accepted before this one (``created``, then
        insertion order): one message of a thread at a time, in order. Otherwise
        ``join`` when metadata is stored, else ``start``: this delivery is recorded as
        the thread's starter, so that one accepted earlier but stored after this check
        waits for it, and two never start the same thread.
        """
        ...

    def keep_thread(self, channel: str, tenant: str | None, key: str, data: dict[str, Any]) -> bool:
        """Store a thread's metadata unless some is stored already (the first one wins)."""
        ...

    def end_thread(self, channel: str, tenant: str | None, key: str) -> None:
        """Forget a thread: the next message with its key starts a new one."""
        ...


class LogStore(Protocol):
    """The audit log: deliveries and their attempts, as people and tools read them."""

    def get(self, delivery_id: str) -> DeliveryRow | None: ...

    def find(self, prefix: str) -> list[DeliveryRow]:
        """At most two deliveries whose id starts with ``prefix`` (people type a few)."""
        ...

    def query(
        self,
        *,
        channel: str | None = None,
        status: DeliveryStatus | None = None,
        event: str | None = None,
        tenant: str | None = None,
        since: float | None = None,
        limit: int | None = 50,
        message_id: str | None = None,
        until: float | None = None,
        before: tuple[float, str] | None = None,
    ) -> list[DeliveryRow]:
        """Deliveries newest first (by ``created``, then ``id``); ``event`` is a glob.

        ``since`` is inclusive, ``until`` exclusive. ``before`` is a cursor: the
        ``(created, id)`` of the last row of the previous page; only rows after it in
        this order are returned, so pages never repeat or skip rows that arrive meanwhile.
        """
        ...

    def attempts(self, delivery_id: str) -> list[AttemptRow]: ...

    def counts(self) -> dict[str, int]: ...

    def oldest_pending(self) -> float | None:
        """When the oldest delivery still to be done (pending or sending) was created."""
        ...

    def prune(self, before: float, *, dry_run: bool = False) -> int:
        """Remove finished deliveries (and their attempts) created before ``before``.

        Threads last used before ``before`` are forgotten too. With ``dry_run``, only
        count the deliveries (a read: works on a read-only store).
        """
        ...

    def latest(self, channel: str, tenant: str | None, dedup_key: str, since: float) -> str | None:
        """The newest live (pending, sending or delivered) delivery of one notification."""
        ...


class StateStore(Protocol):
    """Silences and channel state: what several processes must agree on about channels."""

    def add_silence(self, silence: Silence) -> None: ...

    def silences(self, *, active_at: float | None = None) -> list[Silence]:
        """Silences in force at ``active_at`` (all of them when None), newest first."""
        ...

    def remove_silence(self, silence_id: str) -> bool: ...

    def channel_state(self, channel: str) -> ChannelState: ...

    def channel_states(self) -> dict[str, ChannelState]: ...

    def note_success(self, channel: str) -> None: ...

    def note_failure(self, channel: str, reason: str) -> int:
        """Count a failure; return the consecutive failures now on record."""
        ...

    def auto_disable(self, channel: str, reason: str) -> bool:
        """Switch a channel off automatically; True only for the call that did it."""
        ...

    def set_enabled(self, channel: str, enabled: bool, reason: str | None = None) -> None:
        """The manual switch. Enabling also clears an auto-disable and the failure count."""
        ...


class RequestStore(Protocol):
    """Idempotency keys: the first answer to a request, for its repeats (``notify serve``)."""

    def idempotency_claim(
        self, key: str, fingerprint: str, *, stale_after: float
    ) -> IdempotencyRecord | None:
        """Take ``key`` for a new request, atomically; ``None`` when the caller now holds it.

        Otherwise the record already there: answered, or still being processed by its
        holder. A claim left unanswered for ``stale_after`` seconds (its holder died) is
        taken over.
        """
        ...

    def idempotency_complete(self, key: str, *, status: int, answer: str) -> None:
        """Keep the answer to the request that claimed ``key``; repeats get this answer."""
        ...

    def idempotency_release(self, key: str) -> None:
        """Give back a claim that got no answer worth repeating (the request failed)."""
        ...

    def idempotency_prune(self, before: float) -> int:
        """Forget keys claimed before ``before``; returns how many were removed."""
        ...


class GroupStore(Protocol):
    """Grouping and digests: open groups, their items, what each summary carried."""

    def upsert_group(self, group: NewGroup) -> GroupRow:
        """Create the group, or touch it; its row as stored now.

        Called first in the transaction that adds an item, so a server database locks the
        group row here and concurrent additions and flushes of one group take turns.
        """
        ...

    def group_item(self, group_id: str, dedup_key: str) -> GroupItem | None: ...

    def put_group_item(self, item: NewGroupItem, *, changed: bool) -> None:
        """Insert the item, or replace its message (``seen`` counts up, ``created`` stays)."""
        ...

    def set_group_due(self, group_id: str, due: float | None) -> None: ...

    def next_group_due(self) -> float | None:
        """When the earliest group falls due (or its claim expires); None without groups."""
        ...

    def claim_groups(self, owner: str, *, limit: int, lease: float) -> list[GroupRow]:
        """Atomically lease up to ``limit`` due groups whose claim is free or dead."""
        ...

    def group_items(self, group_id: str) -> list[GroupItem]:
        """A group's items in the order they first arrived (a replaced item keeps its place)."""
        ...

    def settle_group(self, settlement: GroupSettlement) -> bool:
        """Write one flush in one transaction (see :class:`GroupSettlement`).

        False, with nothing written, when ``settlement.owner`` no longer holds the claim.
        """
        ...

    def groups(self, *, channel: str | None = None, tenant: str | None = None) -> list[GroupRow]:
        """Open groups, the soonest due first."""
        ...

    def carried(self, delivery_id: str) -> list[CarriedItem]:
        """What a summary delivery carried, in the order it listed them."""
        ...

    def carried_counts(self, delivery_ids: Sequence[str]) -> dict[str, int]:
        """How many items each of these summary deliveries carried (others are left out)."""
        ...

    def carriers(self, item_delivery: str) -> list[str]:
        """The summary deliveries that carried a per-message delivery, oldest first."""
        ...


class PaceStore(Protocol):
    """Shared rate limits (one GCRA arrival time per destination) and wake-ups."""

    def reserve_slots(
        self, destination: str, interval: int, burst: int, count: int = 1
    ) -> list[float]:
        """Reserve ``destination``'s next ``count`` send slots; seconds to wait for each.

        GCRA (:mod:`notify_core._limits_gcra`) in one atomic statement: ``interval`` is
        the emission interval in whole microseconds, ``burst`` how many may go at once.
        Every process using the store shares the pace. Only a hash of ``destination``
        is stored.
        """
        ...

    def unreserve_slot(self, destination: str, interval: int) -> None:
        """Give back the latest slot of ``destination`` (a reservation not used)."""
        ...

    def wakeups(self) -> Wakeups | None:
        """A new listener for "work was accepted", or None when the backend has none.

        Workers poll anyway; this only shortens an idle worker's wait.
        """
        ...


class ChannelStore(Protocol):
    """Channels users and tenants stored, and who changed them."""

    def stored_channels(self) -> list[StoredChannel]:
        """Every stored channel, root ones (tenant ``None``) first, then by tenant and name."""
        ...

    def stored_channel(self, name: str, tenant: str | None) -> StoredChannel | None: ...

    def stored_revision(self) -> int:
        """A number that grows with every committed add, change or removal of a stored channel.

        Bumped in the same transaction as the change (a one-row counter, so it moves in
        commit order on any database). Routers re-read (and decrypt) stored channels
        only when it moves.
        """
        ...

    def put_stored_channel(
        self, channel: StoredChannel, *, create: bool, audit: ChannelAudit
    ) -> bool:
        """Insert (``create``) or update a stored channel, and its audit entry, atomically.

        False, and nothing written, when ``create`` finds the name taken in its tenant,
        or an update finds no such channel.
        """
        ...

    def remove_stored_channel(self, name: str, tenant: str | None, *, audit: ChannelAudit) -> bool:
        """Delete a stored channel and record ``audit``; False when there was none."""
        ...

    def add_channel_audit(self, entry: ChannelAudit) -> None:
        """Record something done to a stored channel that did not change it (a test)."""
        ...

    def channel_audit(
        self, *, channel: str | None = None, tenant: str | None = None, limit: int = 100
    ) -> list[ChannelAudit]:
        """Audit entries, newest first; ``None`` filters match every channel or tenant."""
        ...
