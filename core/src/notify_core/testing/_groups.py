"""Group summaries as the core sends them, for plugin tests (no store, no clock).

A channel with ``group = {...}`` or ``digest = {...}`` sends one summary message per
burst: an ordinary :class:`~notify_core.Message`, but a long one (a list of items, five
buttons, ``data["group"]`` with up to 100 items). Every provider receives them without
opting in, so the contract builds them too: :func:`group_summary` makes the very message
the worker would send for ``count`` items.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from .._group_policy import GroupPolicy
from .._grouping import Flush
from .._models import Action, Message
from .._store import GroupItem, GroupRow
from .._summary import summarize

#: When the summaries are made (a fixed instant: builds must be deterministic).
SENT_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp()


def group_summary(count: int, *, resolved: int = 0, show: int = 10) -> Message:
    """The summary of a group of ``count`` failed training runs of one model.

    ``resolved`` of them are resolved; the items carry fields, a link and long bodies,
    as real alerts do.
    """
    labels = {"event": "training.failed", "fields.model": "resnet"}
    group = GroupRow(
        id="g0123456789abcdef",
        kind="group",
        channel="contract",
        tenant=None,
        provider="contract",
        key="contract{event=training.failed,fields.model=resnet}",
        labels=json.dumps(labels),
        created=SENT_AT - 30,
        updated=SENT_AT,
        due=SENT_AT,
        last_sent=None,
        last_delivery=None,
        lease_owner=None,
        lease_until=None,
    )
    items, messages = [], []
    for i in range(count):
        message = Message(
            title=f"Training failed: resnet run r-{i}",
            body=f"loss is **NaN** at step {1200 + i}\n" + "Traceback: step() failed\n" * 20,
            event="training.failed",
            severity="critical" if i == count // 2 else "error",
            fields={"model": "resnet", "run": f"r-{i}", "loss": "NaN"},
            actions=[Action("View run", f"https://ml.example.com/runs/{i}", "primary")],
            tags=("ml", f"run-{i % 30}"),
            data={"run": f"r-{i}", "step": 1200 + i},
            dedup_key=f"training.failed:r-{i}",
            state="resolve" if i >= count - resolved else "trigger",
            timestamp=datetime.fromtimestamp(SENT_AT - 30 + i / 10, timezone.utc),
        )
        messages.append(message)
        items.append(
            GroupItem(
                group_id=group.id,
                dedup_key=message.effective_dedup_key(),
                delivery_id=f"{i:021x}",
                message_id=f"{i:021x}",
                created=SENT_AT - 30 + i / 10,
                updated=SENT_AT - 30 + i / 10,
                severity=message.severity.value,
                state="resolved" if message.state == "resolve" else "firing",
                message="{}",
                seen=1 + i % 3,
                changed=True,
                sent_in=None,
            )
        )
    flush = Flush(send=True, reported=tuple(items), removed=())
    return summarize(group, GroupPolicy(show=show), flush, messages, now=SENT_AT)


def group_summaries() -> dict[str, Message]:
    """The summaries every provider must build: 1, 12 and 200 items (some resolved)."""
    return {
        "group of 1": group_summary(1),
        "group of 12": group_summary(12, resolved=2),
        "group of 200": group_summary(200, resolved=20),
    }
