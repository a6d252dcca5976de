"""The records of grouping and digests, shared by every backend.

A *group* is the bursts of one channel that belong together (same ``by`` values); its
*items* are the notifications in it, one per dedup key, each holding the latest message
with that key. A summary delivery is an ordinary delivery row; what it *carried* is kept
beside it, so the log can say which messages went out in it long after the group moved on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

import attrs

from ._records import NewDelivery

GroupKind = Literal["group", "digest"]
ItemState = Literal["firing", "resolved"]


@attrs.frozen(kw_only=True)
class NewGroup:
    """A group as a message opens it: its identity, computed by the pipeline."""

    id: str
    kind: GroupKind
    channel: str
    tenant: str | None
    provider: str
    #: readable identity, masked: ``ops{event=check.failed,fields.model=resnet}``
    key: str
    #: the ``by`` values as a JSON object, masked
    labels: str


@attrs.frozen(kw_only=True)
class GroupRow:
    """A stored group: when it is due, when it last went out, and who holds its claim."""

    id: str
    kind: GroupKind
    channel: str
    tenant: str | None
    provider: str
    key: str
    labels: str
    created: float
    updated: float
    #: when a worker should look at it next (send, repeat or forget); None: not until news
    due: float | None
    last_sent: float | None
    #: the summary delivery it last went out in
    last_delivery: str | None
    lease_owner: str | None
    lease_until: float | None

    @property
    def label_map(self) -> dict[str, str]:
        """The ``by`` values as a dict (stored as a JSON object)."""
        data = json.loads(self.labels)
        return {str(k): str(v) for k, v in data.items()}


@attrs.frozen(kw_only=True)
class NewGroupItem:
    """One accepted message as a group item (``message`` is masked JSON)."""

    group_id: str
    dedup_key: str
    delivery_id: str
    message_id: str
    severity: str
    state: ItemState
    message: str


@attrs.frozen(kw_only=True)
class GroupItem:
    """A stored item: the latest message with its dedup key, and whether it is news."""

    group_id: str
    dedup_key: str
    #: the per-message delivery row of the latest message
    delivery_id: str
    message_id: str
    #: first and latest message with this key
    created: float
    updated: float
    severity: str
    state: ItemState
    message: str
    #: how many messages this item merged
    seen: int
    #: changed since the group last went out (new, or its state moved): news
    changed: bool = attrs.field(converter=bool)
    #: the summary delivery it last went out in
    sent_in: str | None


@attrs.frozen(kw_only=True)
class CarriedItem:
    """One line of what a summary delivery carried (for ``notify log show``)."""

    delivery_id: str
    position: int
    #: the per-message delivery row of the item's message
    item_delivery: str
    dedup_key: str
    state: ItemState
    title: str
    new: bool = attrs.field(converter=bool)


@attrs.frozen(kw_only=True)
class GroupSettlement:
    """What one flush of a claimed group writes, in one transaction.

    The pipeline decides everything (which items went out, which are forgotten, what
    each message's row now says, when the group is due next); the store writes it, and
    only while ``owner`` still holds the claim. An item is updated or removed only if
    it still holds the message the flush saw (``delivery_id``): a message that replaced
    it meanwhile is news for the next flush, never marked sent unseen. Likewise the
    group is due at ``due_changed`` if any item is news after the write, else at
    ``due_quiet``; it is removed when it has no items left.
    """

    group_id: str
    owner: str
    summary: NewDelivery | None = None
    carried: Sequence[CarriedItem] = ()
    #: (dedup_key, delivery_id) of items that went out
    sent: Sequence[tuple[str, str]] = ()
    #: (dedup_key, delivery_id) of items that leave the group
    removed: Sequence[tuple[str, str]] = ()
    #: (delivery id, reason) for per-message rows whose fate is now known
    reasons: Sequence[tuple[str, str]] = ()
    sent_at: float | None = None
    due_quiet: float | None = None
    due_changed: float | None = None
