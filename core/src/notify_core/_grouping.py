"""Grouping: a burst to one channel becomes one message.

A channel with ``group = { by = [...], wait, interval, repeat }`` does not get one
delivery per message. Each accepted message becomes an *item* of the group its ``by``
values name (items are keyed by dedup key: a later message with the same key replaces
the earlier one, and its state counts). The group's first item waits ``wait`` for
company, then one summary goes out with everything that arrived; news (new items,
items whose state moved) goes out at most every ``interval``; a group whose live items
have not changed is sent again after ``repeat``. An item no message has refreshed for
``expire`` is forgotten quietly. Items that resolved are listed once as resolved, or
dropped (``resolved = "drop"``); a group with nothing left to say sends nothing. A
channel with ``digest = {...}`` works the same way on a calendar (:mod:`._digest`).

This module is the policy (pure: what is news, when a group is due, what a flush
does) and the two places it meets the store: :func:`take` (inside the transaction
that accepts a message) and :class:`Flusher` (the worker's flush of due groups). The
summary message itself is built by :mod:`._summary`; the SQL is in the store.

Every accepted message still has its own delivery row, ``skipped`` with a reason that
starts with ``grouped:`` and says where its content went (the group and when it goes
out, then the summary delivery that carried it), so the log tells what became of
every message; the summary is an ordinary delivery row, retried and logged like any.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._convert import message_from_json
from ._digest import DigestPolicy
from ._group_policy import GroupPolicy, Policy
from ._models import Message
from ._store import (
    CarriedItem,
    GroupItem,
    GroupKind,
    GroupRow,
    GroupSettlement,
    NewGroup,
    NewGroupItem,
    Store,
)
from ._text import truncate

if TYPE_CHECKING:
    from ._channel import Channel
    from ._clock import Clock
    from ._outbox import Outbox
    from ._writer import BatchWriter

log = logging.getLogger("notify")

#: How much of one ``by`` value a group's readable key shows.
KEY_VALUE_CHARS = 60
#: Every reason a grouped message's row records starts with this.
GROUPED = "grouped:"


def policy_of(channel: Channel) -> Policy | None:
    return channel.group or channel.digest


def kind_of(policy: Policy) -> GroupKind:
    return "digest" if isinstance(policy, DigestPolicy) else "group"


def label_value(name: str, message: Message, tenant: str | None) -> str:
    """The value ``by`` entry ``name`` has for ``message`` ("" when the message lacks it)."""
    if name == "event":
        return message.event
    if name == "tenant":
        return tenant or ""
    if name == "severity":
        return message.severity.value
    if name == "title":
        return message.title
    if name == "dedup_key":
        return message.effective_dedup_key()
    if name.startswith("fields."):
        wanted = name.removeprefix("fields.")
        for exact in (True, False):  # the exact name first, then regardless of case
            for field in message.fields:
                if field.name == wanted if exact else field.name.lower() == wanted.lower():
                    return field.value
        return ""
    value: Any = message.data
    for part in name.removeprefix("data.").split("."):
        if not isinstance(value, Mapping) or part not in value:
            return ""
        value = value[part]
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


# -- identity: which group a message joins -------------------------------------------


@attrs.frozen(kw_only=True)
class Hold:
    """One accepted message on its way into a group (made by the outbox, taken by :func:`take`)."""

    #: the position of its delivery row in the accepted message's rows
    row: int
    policy: Policy
    group: NewGroup
    item: NewGroupItem


def hold_for(
    channel: Channel,
    message: Message,
    *,
    tenant: str | None,
    delivery_id: str,
    message_id: str,
    stored: str,
    mask: Callable[[str], str],
    row: int,
) -> Hold | None:
    """The group ``message`` joins on ``channel``, or None when the channel does not group.

    The group is one per channel × tenant × ``by`` values: a delivery belongs to one
    tenant, so groups never mix tenants. Its id is a hash of that identity, so every
    process computes the same one; its readable key is masked like the stored message.
    """
    policy = policy_of(channel)
    if policy is None:
        return None
    kind = kind_of(policy)
    raw = {name: label_value(name, message, tenant) for name in policy.by}
    identity = "\0".join([kind, tenant or "", channel.name, *(f"{k}={v}" for k, v in raw.items())])
    group_id = kind[0] + hashlib.sha256(identity.encode()).hexdigest()[:15]
    labels = {k: mask(v) for k, v in raw.items()}
    shown = ",".join(f"{k}={truncate(v, KEY_VALUE_CHARS)}" for k, v in labels.items())
    where = f"{tenant}/{channel.name}" if tenant else channel.name
    return Hold(
        row=row,
        policy=policy,
        group=NewGroup(
            id=group_id,
            kind=kind,
            channel=channel.name,
            tenant=tenant,
            provider=channel.provider,
            key=f"{where}{{{shown}}}",
            labels=json.dumps(labels, ensure_ascii=False),
        ),
        item=NewGroupItem(
            group_id=group_id,
            dedup_key=message.effective_dedup_key(),
            delivery_id=delivery_id,
            message_id=message_id,
            severity=message.severity.value,
            state="resolved" if message.state == "resolve" else "firing",
            message=stored,
        ),
    )


# -- the policy: when a group is due, and what a flush does ---------------------------


def arrival_due(policy: Policy, group: GroupRow, now: float) -> float:
    """When a group that just received news must be looked at (never later than it was)."""
    if isinstance(policy, DigestPolicy):
        return group.due if group.due is not None else policy.next_after(now)
    if group.last_sent is None:
        candidate = group.created + policy.wait  # the first item waits for company
    else:
        candidate = max(now, group.last_sent + policy.interval)  # news at most every interval
    return candidate if group.due is None else min(group.due, candidate)


@attrs.frozen(kw_only=True)
class Flush:
    """What one flush of a group does, decided from its items and the time."""

    send: bool
    #: nothing new: the live items are sent again (``repeat``)
    repeat: bool = False
    #: the items the summary lists, in order: news first, then live ones, then resolved
    reported: tuple[GroupItem, ...] = ()
    #: items that leave the group (resolved ones once handled, forgotten ones)
    removed: tuple[GroupItem, ...] = ()
    #: resolved items not sent (``resolved = "drop"``): their rows say so
    dropped: tuple[GroupItem, ...] = ()
    #: when the group is due next if nothing changes meanwhile, and if something does
    due_quiet: float | None = None
    due_changed: float | None = None

    @property
    def new(self) -> frozenset[str]:
        """The dedup keys of the reported items that are news."""
        return frozenset(i.dedup_key for i in self.reported if i.changed)


def plan_flush(policy: Policy, group: GroupRow, items: Sequence[GroupItem], now: float) -> Flush:
    """What a due group does now: send a summary (or not), forget, and when it is due next."""
    if isinstance(policy, DigestPolicy):
        shown = [i for i in items if i.state == "firing" or policy.resolved == "send"]
        return Flush(
            send=bool(shown),
            reported=tuple(shown),
            removed=tuple(items),  # a digest reports what arrived in its period, then forgets
            dropped=tuple(i for i in items if i not in shown),
            due_changed=policy.next_after(now),
        )
    firing = [i for i in items if i.state == "firing"]
    forgotten = [i for i in firing if not i.changed and i.updated + policy.forget <= now]
    live = [i for i in firing if i not in forgotten]
    resolved = [i for i in items if i.state == "resolved"]
    resolved_news = [i for i in resolved if i.changed]
    stale = [i for i in resolved if not i.changed]  # handled already; only a crash leaves one
    shown_resolved = resolved_news if policy.resolved == "send" else []
    dropped = [] if policy.resolved == "send" else resolved_news
    news = [i for i in live if i.changed]
    opens = (
        group.created + policy.wait
        if group.last_sent is None
        else group.last_sent + policy.interval
    )
    repeat = bool(
        policy.repeat is not None
        and group.last_sent is not None
        and live
        and now >= group.last_sent + policy.repeat
    )
    send = (bool(news or shown_resolved) and now >= opens) or repeat
    removed = [*forgotten, *stale, *dropped]
    last = group.last_sent
    if send:
        # reported now, and already past their memory (a worker that was down, a channel
        # that no longer groups): they leave with this summary
        done = [i for i in live if i.updated + policy.forget <= now]
        removed += [*shown_resolved, *done]
        live = [i for i in live if i not in done]
        last = now
    due_changed = max(now, last + policy.interval) if last is not None else max(now, opens)
    if not send and (news or shown_resolved):
        due_quiet: float | None = due_changed  # news waits for the interval to open
    else:
        candidates = [min(i.updated for i in live) + policy.forget] if live else []
        if live and policy.repeat is not None and last is not None:
            candidates.append(last + policy.repeat)
        due_quiet = min(candidates) if candidates else None
    old = [i for i in firing if i not in forgotten and not i.changed]
    return Flush(
        send=send,
        repeat=send and not news and not shown_resolved,
        reported=(*news, *old, *shown_resolved) if send else (),
        removed=tuple(removed),
        dropped=tuple(dropped),
        due_quiet=due_quiet,
        due_changed=due_changed,
    )


# -- what each message's row says ---------------------------------------------------------


def when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _kind_word(policy: Policy | GroupKind) -> str:
    kind = policy if isinstance(policy, str) else kind_of(policy)
    return "digest" if kind == "digest" else "group"


def waiting_reason(policy: Policy, key: str, due: float) -> str:
    if isinstance(policy, DigestPolicy):
        return f"{GROUPED} goes out with digest {key} at {when(due)}"
    return f"{GROUPED} goes out with group {key} by {when(due)}"


def went_out_reason(kind: GroupKind, key: str, summary_id: str) -> str:
    return f"{GROUPED} went out in delivery {summary_id} with {_kind_word(kind)} {key}"


def dropped_reason(kind: GroupKind, key: str) -> str:
    return f'{GROUPED} resolved; not sent ({_kind_word(kind)} {key} has resolved = "drop")'


def replaced_reason(kind: GroupKind, key: str, by: str) -> str:
    return (
        f"{GROUPED} replaced in {_kind_word(kind)} {key} by delivery {by} (same dedup key) "
        "before it went out"
    )


def repeat_reason(key: str, sent_in: str | None) -> str:
    where = f" in delivery {sent_in}" if sent_in else ""
    return f"{GROUPED} already sent{where} with group {key}; a repeat of it is not news"


# -- where the policy meets the store ---------------------------------------------------


def take(store: Store, hold: Hold, now: float) -> str:
    """Add one accepted message to its group; the reason its delivery row records.

    Runs inside the transaction that stores the message's rows (see
    :meth:`notify_core._outbox.Accepted.write`), group row first: a server database
    locks it there, so additions and a flush of one group take turns.
    """
    group = store.upsert_group(hold.group)
    item = hold.item
    previous = store.group_item(group.id, item.dedup_key)
    news = (
        isinstance(hold.policy, DigestPolicy)
        or previous is None
        or previous.changed
        or previous.state != item.state
    )
    store.put_group_item(item, changed=news)
    if previous is not None and previous.changed and previous.delivery_id != item.delivery_id:
        # the earlier message had not gone out yet: its row says where its place went
        store.finish(
            previous.delivery_id,
            status="skipped",
            reason=replaced_reason(group.kind, group.key, item.delivery_id),
        )
    if not news:
        assert previous is not None
        return repeat_reason(group.key, previous.sent_in)
    due = arrival_due(hold.policy, group, now)
    if due != group.due:
        store.set_group_due(group.id, due)
    return waiting_reason(hold.policy, group.key, due)


class Flusher:
    """The worker's part: flush due groups into summary deliveries.

    A flush claims due groups with a lease (atomically, like deliveries), builds each
    summary from the items outside any transaction, then settles it in one: the summary
    delivery (``pending``, so it is claimed, paced, retried and logged like any
    delivery), what it carried, the items marked or removed, every message's row told
    where it went, and the group moved on. Only a worker that still holds the claim can
    settle, so two workers never send one group twice, and a worker killed between
    claim and settlement leaves a lease that expires into the next worker's hands.
    """

    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        writer: BatchWriter,
        *,
        owner: str,
        lease: float,
        clock: Clock,
        limit: int = 16,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.writer = writer
        self.owner = owner
        self.lease = lease
        self.clock = clock
        self.limit = limit
        #: summaries written by this flusher
        self.written = 0

    def due(self) -> bool:
        """Whether any group is due now (a read: cheap enough for every worker turn)."""
        due = self.store.next_group_due()
        return due is not None and due <= self.clock.time()

    async def flush(self) -> int:
        """Flush every due group this worker can claim; the number of summaries written."""
        if not self.due():
            return 0
        groups = await self.writer.call(
            self.store.claim_groups, self.owner, limit=self.limit, lease=self.lease
        )
        written = 0
        for group in groups:
            try:
                settlement = self.settlement(group, self.clock.time())
                settled = await self.writer.call(self.store.settle_group, settlement)
            except Exception as exc:  # a store error: the claim expires, the flush is retried
                log.warning(
                    "group %s: %s: %s (it is flushed again when its claim ends)",
                    group.key,
                    type(exc).__name__,
                    exc,
                )
                continue
            if settled and settlement.summary is not None:
                written += 1
        self.written += written
        return written

    def policy(self, group: GroupRow) -> tuple[Policy, Channel | None]:
        """The group's policy in the *current* configuration.

        A channel that is gone, or no longer groups, has what is left flushed now and
        forgotten: nothing accepted is dropped silently, nothing waits for a config that
        will not come back.
        """
        from ._errors import NotifyError

        try:
            channel = self.outbox.router.channel(group.channel, group.tenant)
        except NotifyError:
            channel = None
        policy = policy_of(channel) if channel is not None else None
        if policy is None or kind_of(policy) != group.kind:
            policy = (
                DigestPolicy()
                if group.kind == "digest"
                else GroupPolicy(wait=0, interval=0, expire=0)
            )
        return policy, channel

    def settlement(self, group: GroupRow, now: float) -> GroupSettlement:
        """Build one flush: the plan, the summary delivery, and what every row now says."""
        from ._summary import summarize

        policy, channel = self.policy(group)
        items = self.store.group_items(group.id)
        plan = plan_flush(policy, group, items, now)
        reasons = [(i.delivery_id, dropped_reason(group.kind, group.key)) for i in plan.dropped]
        summary = None
        carried: list[CarriedItem] = []
        if plan.send:
            messages = [message_from_json(i.message) for i in plan.reported]
            message = summarize(group, policy, plan, messages, now=now)
            summary = self.outbox.direct(message, channel, group)
            carried = [
                CarriedItem(
                    delivery_id=summary.id,
                    position=n,
                    item_delivery=item.delivery_id,
                    dedup_key=item.dedup_key,
                    state=item.state,
                    title=truncate(m.title, 200),
                    new=item.changed,
                )
                for n, (item, m) in enumerate(zip(plan.reported, messages, strict=True))
            ]
            went = went_out_reason(group.kind, group.key, summary.id)
            reasons += [(i.delivery_id, went) for i in plan.reported if i.changed]
        live_sent = [i for i in plan.reported if i.state == "firing"] if plan.send else []
        return GroupSettlement(
            group_id=group.id,
            owner=self.owner,
            summary=summary,
            carried=carried,
            sent=[(i.dedup_key, i.delivery_id) for i in live_sent if i not in plan.removed],
            removed=[(i.dedup_key, i.delivery_id) for i in plan.removed],
            reasons=reasons,
            sent_at=now if plan.send else None,
            due_quiet=plan.due_quiet,
            due_changed=plan.due_changed,
        )


# -- what `notify groups` shows ------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Outlook:
    """When a group next sends something, and what (for people looking at open groups)."""

    at: float | None
    what: str


def outlook(policy: Policy | None, group: GroupRow, items: Sequence[GroupItem]) -> Outlook:
    """What the group's next flush sends, as far as its items tell now."""
    if policy is None:  # no configuration at hand: the flush time is all that is known
        return Outlook(at=group.due, what="")
    if isinstance(policy, DigestPolicy):
        return Outlook(at=group.due, what=f"{policy.label} digest of {len(items)}")
    firing = [i for i in items if i.state == "firing"]
    news = [i for i in firing if i.changed]
    resolved = [i for i in items if i.state == "resolved" and i.changed]
    if news or (resolved and policy.resolved == "send"):
        parts = [f"{len(news)} new"] if news else []
        if resolved and policy.resolved == "send":
            parts.append(f"{len(resolved)} resolved")
        return Outlook(at=group.due, what=", ".join(parts))
    if policy.repeat is not None and group.last_sent is not None:
        at = group.last_sent + policy.repeat
        live = [i for i in firing if i.updated + policy.forget > at]
        if live:
            return Outlook(at=at, what=f"repeat of {len(live)}")
    return Outlook(at=None, what="nothing until news")
