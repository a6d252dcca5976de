"""The summary of a group or digest: one ordinary :class:`Message` every provider renders.

Nothing here is new to a plugin: the title says how many of what ("12 × training.failed
on model resnet"), the body lists the items with their key fields and links (a visible
"… and 30 more" past the group's ``show``), the severity is the highest of the items,
the actions are the items' first links, and the dedup key is the group's, so a
PagerDuty incident follows the group. A receiver that wants structure gets it in
``data["group"]`` (``id``, ``key``, ``labels``, ``count``, ``items`` …), which the
webhook envelope forwards as is.

A group of one sends that message as it is (plus ``data["group"]``): a summary that
says "1 × …" would be worse than the message itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from ._digest import DigestPolicy, zone
from ._group_policy import Policy
from ._grouping import Flush
from ._models import Action, Field, Message, Severity
from ._store import GroupItem, GroupRow
from ._text import MARKER, truncate

#: How many items ``data["group"]["items"]`` holds (``truncated`` counts the rest).
MAX_DATA_ITEMS = 100
#: How much of an item's body ``data`` keeps.
ITEM_BODY_CHARS = 500
#: Buttons: the first link of this many items.
MAX_ACTIONS = 5
#: Fields shown on an item's line, and how long each value may be there.
LINE_FIELDS = 3
LINE_VALUE_CHARS = 60
LINE_TITLE_CHARS = 150
MAX_TAGS = 20


def _common(values: Sequence[str | None]) -> str | None:
    first = values[0] if values else None
    return first if first and all(v == first for v in values) else None


def _label_name(name: str) -> str:
    """``fields.model`` → ``model``: how a ``by`` entry reads in a sentence or a field."""
    return name.split(".", 1)[1] if name.startswith(("fields.", "data.")) else name


def subject(event: str | None, labels: dict[str, str]) -> str:
    """``training.failed on model resnet``: what a group is about."""
    on = [
        f"{_label_name(name)} {value}"
        for name, value in labels.items()
        if name not in ("event", "tenant") and value
    ]
    what = event or "notifications"
    return f"{what} on {', '.join(on)}" if on else what


def _line(item: GroupItem, message: Message, *, new: bool, mark_new: bool) -> str:
    mark = "resolved: " if item.state == "resolved" else ("new: " if new and mark_new else "")
    text = f"- {mark}{truncate(message.title or message.event or item.dedup_key, LINE_TITLE_CHARS)}"
    shown = [
        f"{f.name}: {truncate(f.value, LINE_VALUE_CHARS)}"
        for f in message.fields[:LINE_FIELDS]
        if f.value
    ]
    if shown:
        text += f" ({', '.join(shown)})"
    if item.seen > 1:
        text += f" ×{item.seen}"
    if message.actions:
        action = message.actions[0]
        text += f" · [{truncate(action.label, 40)}]({action.url})"
    return text


def _actions(items: Sequence[tuple[GroupItem, Message]]) -> list[Action]:
    chosen: list[tuple[Action, Message]] = []
    urls: set[str] = set()
    for _, message in items:
        if message.actions and message.actions[0].url not in urls:
            chosen.append((message.actions[0], message))
            urls.add(message.actions[0].url)
        if len(chosen) == MAX_ACTIONS:
            break
    labels = [a.label for a, _ in chosen]
    return [
        Action(
            a.label
            if labels.count(a.label) == 1
            else truncate(f"{a.label}: {m.title or m.event}", 60),
            a.url,
            a.style,
        )
        for a, m in chosen
    ]


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat()


def _item_data(item: GroupItem, message: Message, new: bool) -> dict[str, Any]:
    return {
        "dedup_key": item.dedup_key,
        "delivery_id": item.delivery_id,
        "title": message.title,
        "body": truncate(message.body, ITEM_BODY_CHARS),
        "event": message.event,
        "severity": message.severity.value,
        "state": item.state,
        "new": new,
        "seen": item.seen,
        "first_seen": _iso(item.created),
        "last_seen": _iso(item.updated),
        "timestamp": message.timestamp.isoformat(),
        "fields": [{"name": f.name, "value": f.value} for f in message.fields],
        "links": [{"label": a.label, "url": a.url} for a in message.actions],
    }


def summarize(
    group: GroupRow,
    policy: Policy,
    flush: Flush,
    messages: Sequence[Message],
    *,
    now: float,
) -> Message:
    """The one message a flush sends (pure: same items and time, same message)."""
    items = list(zip(flush.reported, messages, strict=True))
    if not items:
        raise ValueError("a summary needs at least one item")
    new = flush.new
    labels = group.label_map
    count = len(items)
    firing = sum(1 for i, _ in items if i.state == "firing")
    resolved = count - firing
    fresh = sum(1 for i, _ in items if i.dedup_key in new and i.state == "firing")
    digest = policy if isinstance(policy, DigestPolicy) else None
    event = _common([m.event for _, m in items])
    about = subject(event, labels)
    data = {
        "group": {
            "id": group.id,
            "kind": group.kind,
            "key": group.key,
            "labels": labels,
            "count": count,
            "firing": firing,
            "resolved": resolved,
            "new": len(new),
            "repeat": flush.repeat,
            "items": [_item_data(i, m, i.dedup_key in new) for i, m in items[:MAX_DATA_ITEMS]],
            "truncated": max(0, count - MAX_DATA_ITEMS),
        }
    }
    severity = max((Severity.parse(i.severity) for i, _ in items), key=lambda s: s.rank)
    title, body, fields, actions, tags = _content(
        group, policy, flush, items, about, now, counts=(firing, resolved, fresh)
    )
    if count == 1 and digest is None:
        data = {**items[0][1].data, **data}
    return Message(
        title=title,
        body=body,
        event=event or f"notify.{group.kind}",
        severity=severity,
        fields=fields,
        actions=actions,
        dedup_key=f"notify.{group.kind}:{group.id}",
        tags=tags,
        timestamp=datetime.fromtimestamp(now, timezone.utc),
        data=data,
        state="resolve" if firing == 0 else "trigger",
        thread_id=_common([m.thread_id for _, m in items]),
    )


def _content(
    group: GroupRow,
    policy: Policy,
    flush: Flush,
    items: Sequence[tuple[GroupItem, Message]],
    about: str,
    now: float,
    *,
    counts: tuple[int, int, int],
) -> tuple[str, str, list[Field], list[Action], tuple[str, ...]]:
    """Title, body, fields, actions and tags of the summary."""
    firing, resolved, fresh = counts
    count = len(items)
    digest = policy if isinstance(policy, DigestPolicy) else None
    if count == 1 and digest is None:
        message = items[0][1]
        return (
            message.title,
            message.body,
            list(message.fields),
            list(message.actions),
            message.tags,
        )
    new = flush.new
    if digest is not None:
        title = f"{digest.title_word}: {count} × {about}"
        since = datetime.fromtimestamp(digest.previous(group.due or now), zone(digest.timezone))
        lead = [f"Since {since:%a %d %b %H:%M} ({digest.timezone}):"]
    elif firing == 0:
        title = f"Resolved: {count} × {about}"
        lead = []
    else:
        title = f"{firing} × {about}"
        extras = ["still firing"] if flush.repeat else []
        if 0 < fresh < firing:
            extras.append(f"{fresh} new")
        if resolved:
            extras.append(f"{resolved} resolved")
        if extras:
            title += f" ({', '.join(extras)})"
        lead = ["Nothing changed since the last notification."] if flush.repeat else []
    mark_new = 0 < len(new) < count and digest is None
    lines = [
        _line(i, m, new=i.dedup_key in new, mark_new=mark_new) for i, m in items[: policy.show]
    ]
    if count > policy.show:
        lines.append(f"{MARKER} and {count - policy.show} more")
    fields = [Field(_label_name(k), v) for k, v in group.label_map.items() if v]
    fields.append(Field("items", str(count)))
    if resolved and firing:
        fields.append(Field("resolved", str(resolved)))
    tags: list[str] = []
    for _, m in items:
        tags += [t for t in m.tags if t not in tags]
    return title, "\n".join([*lead, *lines]), fields, _actions(items), tuple(tags[:MAX_TAGS])
