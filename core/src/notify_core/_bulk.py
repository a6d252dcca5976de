"""Sending many messages at once: one store transaction for the whole batch.

``Notifier.send_many`` routes and builds every message first (a message that cannot be
routed or built raises before anything is stored), writes every delivery of every
message in one transaction (the outbox rule holds: all rows are committed before the
first byte is sent), then attempts them all concurrently under the notifier's
concurrency and the channels' rate limits, and waits (bounded) once for the batch.

What it saves over ``asend`` per message in a ``gather``: one commit, one store
round trip and one task per message. The batch goes to the notifier's executor as one
accepted whole, so a Celery executor gets it as it gets one message. What it does not
change: each channel's pace. A channel without ``rate`` gets its provider's default (a
webhook: 10/s), so 500 messages to one webhook take ~50 s however they are sent; give
the channel a ``rate`` its receiver accepts (docs/guide.md, "Sending in bulk").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._models import Message, Severity
from ._results import DeliveryResult, SendResult

if TYPE_CHECKING:
    from ._channel import Channel
    from ._grouping import Hold
    from ._job import Job
    from ._notifier import Notifier
    from ._outbox import Accepted
    from ._store import NewDelivery

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
    executor = notifier.executor
    send_now = wait > 0 and executor.attempts_here
    accepted = [
        notifier.outbox.accept(m, notifier.route(m, to, tenant), tenant=tenant, send_now=send_now)
        for m in batch
    ]
    # one Accepted for the batch: the executor stores it in one transaction (one INSERT
    # when nothing is grouped) and attempts every job of it, as it does for one message
    merged = merge(accepted)
    submitted = await executor.submit(merged, wait=wait)
    # read after the write: a grouped delivery learns its reason from its group there
    by_id: dict[str, DeliveryResult] = {r.id: r for r in (*merged.results, *submitted)}
    return [
        SendResult(
            message_id=one.message_id,
            deliveries=one.ordered([by_id[row.id] for row in one.rows]),
        )
        for one in accepted
    ]


def merge(accepted: Sequence[Accepted]) -> Accepted:
    """Many messages' rows, jobs, results and holds as one (holds keep pointing at their row)."""
    from ._outbox import Accepted

    rows: list[NewDelivery] = []
    jobs: list[Job] = []
    results: list[DeliveryResult] = []
    holds: list[Hold] = []
    for one in accepted:
        holds.extend(attrs.evolve(h, row=h.row + len(rows)) for h in one.holds)
        rows.extend(one.rows)
        jobs.extend(one.jobs)
        results.extend(one.results)
    return Accepted(accepted[0].message_id, rows, jobs, results, holds)


def messages_for(
    notifier: Notifier, events: Iterable[Event], severity: Severity | str | None
) -> list[Message]:
    """Each event through its template (a template error raises before anything is sent)."""
    return [notifier.message_for(event, data or {}, severity) for event, data in events]
