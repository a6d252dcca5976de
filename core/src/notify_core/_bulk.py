"""Sending many messages at once: one store transaction for the whole batch.

``Notifier.send_many`` routes and builds every message first (a message that cannot be
routed or built raises before anything is stored), writes every delivery of every
message in one transaction (the outbox rule holds: all rows are committed before the
first byte is sent), then attempts them all concurrently under the notifier's
concurrency and the channels' rate limits, and waits (bounded) once for the batch.

What it saves over ``asend`` per message in a ``gather``: one commit, one store
round trip and one task per message. What it does not change: each channel's pace.
A channel without ``rate`` gets its provider's default (a webhook: 10/s), so 500
messages to one webhook take ~50 s however they are sent; give the channel a
``rate`` its receiver accepts (docs/guide.md, "Sending in bulk").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._models import Message, Severity
from ._results import DeliveryResult, SendResult

if TYPE_CHECKING:
    from ._channel import Channel
    from ._notifier import Notifier
    from ._outbox import Accepted
    from ._store import NewDelivery, Store

#: One event of :meth:`~notify_core.Notifier.emit_many`: its name and its data.
Event = tuple[str, Mapping[str, Any] | None]


async def send_many(
    notifier: Notifier,
    messages: Iterable[Message],
    to: Sequence[str | Channel] | None,
    *,
    tenant: str | None,
    wait: float | None,
) -> list[SendResult]:
    """See :meth:`Notifier.asend_many <notify_core.Notifier.asend_many>`."""
    wait = notifier.wait if wait is None else wait
    batch = list(messages)
    if not batch:
        return []
    accepted = [
        notifier.outbox.accept(m, notifier.route(m, to, tenant), tenant=tenant, send_now=wait > 0)
        for m in batch
    ]
    dispatcher = notifier._runtime().dispatcher
    await dispatcher.writer.call(
        _write_all, notifier.store, accepted, owner=notifier.owner, lease=notifier.lease + wait
    )
    deadline = notifier.clock.time() + wait
    jobs = [job for one in accepted for job in one.jobs]
    sent = await dispatcher.run(jobs, deadline=deadline) if jobs else []
    by_id: dict[str, DeliveryResult] = {r.id: r for r in sent}
    results = [
        SendResult(
            message_id=one.message_id,
            deliveries=one.ordered([*one.results, *(by_id[job.id] for job in one.jobs)]),
        )
        for one in accepted
    ]
    await notifier._announce_now(wait)
    return results


def _write_all(store: Store, accepted: Sequence[Accepted], *, owner: str, lease: float) -> None:
    """Every row of the batch in one transaction (one INSERT for all ungrouped ones)."""
    rows: list[NewDelivery] = []
    with store.transaction():
        for one in accepted:
            if one.holds:  # grouped deliveries read their group in this same transaction
                one.write(store, owner=owner, lease=lease)
            else:
                rows.extend(one.rows)
        if rows:
            store.add(rows, owner=owner, lease=lease)


def messages_for(
    notifier: Notifier, events: Iterable[Event], severity: Severity | str | None
) -> list[Message]:
    """Each event through its template (a template error raises before anything is sent)."""
    return [notifier.message_for(event, data or {}, severity) for event, data in events]
