"""A message as an Events API v2 event: alert (trigger/acknowledge/resolve) or change.

Pure functions of the channel and the message, so ``--dry-run`` and the golden tests
show exactly what is sent. PagerDuty's limits (DESIGN §6) are kept by trimming with
the visible marker, never by sending what PagerDuty would refuse: ``summary`` ≤ 1024
characters, ``dedup_key`` ≤ 255, the whole event ≤ 512 KB.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from notify_core.plugin import (
    MARKER,
    Message,
    Payload,
    PayloadError,
    Severity,
    truncate,
    truncate_bytes,
    utc,
)

from ._channel import ATTRIBUTE_SETTINGS, EventAction, PagerDutyChannel

SUMMARY_LIMIT = 1024
DEDUP_KEY_LIMIT = 255
EVENT_BYTES_LIMIT = 512 * 1024
CLIENT = "notify"
#: Between title and body in the summary.
SEPARATOR = " — "
#: A body squeezed into fewer characters than this is noise: the summary is the title alone.
_MIN_BODY_ROOM = 16
#: Strings are never trimmed below this many bytes when fitting the 512 KB limit.
_MIN_STRING_BYTES = 64

SEVERITIES: dict[Severity, str] = {
    Severity.INFO: "info",
    Severity.WARNING: "warning",
    Severity.ERROR: "error",
    Severity.CRITICAL: "critical",
}


def event_action(channel: PagerDutyChannel, message: Message) -> EventAction:
    """The channel's ``settings.event_action`` if set, else the message's ``state``."""
    return channel.event_action or message.state


def dedup_key(message: Message) -> str:
    """The message's key (explicit, else ``event:title``), kept ≤ 255 characters.

    The same message always gives the same key, so a resolve finds its trigger. A
    longer key keeps its readable start, the marker, and the SHA-256 of the whole key
    (two long keys that share a start still differ).
    """
    key = message.effective_dedup_key()
    if len(key) <= DEDUP_KEY_LIMIT:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return truncate(key, DEDUP_KEY_LIMIT - len(digest) - 1) + ":" + digest


def summary(message: Message) -> str:
    """``title — body`` on one line, ≤ 1024 characters; the title alone if the body has no room.

    The whole body, line breaks and markdown included, is in ``custom_details.body``.
    """
    title = " ".join(message.title.split()) or message.event
    body = " ".join(message.body.split())
    if not title:  # PagerDuty refuses a blank summary
        return truncate(body, SUMMARY_LIMIT) or "(no title)"
    room = SUMMARY_LIMIT - len(title) - len(SEPARATOR)
    if body and room >= _MIN_BODY_ROOM:
        return title + SEPARATOR + truncate(body, room)
    return truncate(title, SUMMARY_LIMIT)


def timestamp(message: Message) -> str:
    """ISO 8601 in UTC, with its offset (a naive time is taken as UTC)."""
    return utc(message.timestamp).isoformat()


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        text = str(value).strip()
        return text or None
    return None


def attributes(channel: PagerDutyChannel, message: Message) -> tuple[dict[str, str], set[str]]:
    """``source``/``component``/``group``/``class``: setting, else field, else event data.

    Returns the attributes and the names of the fields used for them (those fields are
    not repeated in ``custom_details``). ``source`` falls back to ``"notify"``.
    """
    fields = {f.name: f.value for f in reversed(message.fields)}  # first of a name wins
    found: dict[str, str] = {}
    used: set[str] = set()
    for name in ATTRIBUTE_SETTINGS:
        if name in channel.attributes:
            found[name] = channel.attributes[name]
        elif (value := _text(fields.get(name))) is not None:
            found[name] = value
            used.add(name)
        elif (value := _text(message.data.get(name))) is not None:
            found[name] = value
    found.setdefault("source", CLIENT)
    return found, used


def _free(details: Mapping[str, Any], name: str) -> str:
    """``name``, or ``name (2)``, ``name (3)``… when taken: no detail overwrites another."""
    if name not in details:
        return name
    n = 2
    while f"{name} ({n})" in details:
        n += 1
    return f"{name} ({n})"


def _jsonable(value: Any) -> Any:
    """Event data as plain JSON (dates and other objects become strings)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def custom_details(
    message: Message, skip_fields: Collection[str] = (), extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Fields by name (as PagerDuty shows them), then ``body``, ``event``, ``tags``, ``data``."""
    details: dict[str, Any] = {}
    skipped: set[str] = set()
    for field in message.fields:
        if field.name in skip_fields and field.name not in skipped:
            skipped.add(field.name)  # shown as payload.component (etc.), not twice
            continue
        details[_free(details, field.name)] = field.value
    extras: dict[str, Any] = {
        "body": message.body,
        "event": message.event,
        "tags": list(message.tags),
        "data": _jsonable(dict(message.data)),
        **(extra or {}),
    }
    for name, value in extras.items():
        if value:
            details[_free(details, name)] = value
    return details


def links(message: Message) -> list[dict[str, str]]:
    """One link per action, its label as the text."""
    return [
        {"href": a.url, "text": a.label} if a.label else {"href": a.url} for a in message.actions
    ]


def alert_event(channel: PagerDutyChannel, message: Message) -> dict[str, Any]:
    """An ``/v2/enqueue`` event; acknowledge and resolve carry only the three fields they use."""
    action = event_action(channel, message)
    key = dedup_key(message)
    if action != "trigger":
        if not key:
            raise PayloadError(
                f"pagerduty {action} needs a dedup_key (or a title) to find the alert"
            )
        return {"routing_key": channel.routing_key, "event_action": action, "dedup_key": key}
    attrs_, used = attributes(channel, message)
    payload: dict[str, Any] = {
        "summary": summary(message),
        "source": attrs_["source"],
        "severity": SEVERITIES[message.severity],
        "timestamp": timestamp(message),
    }
    for name in ("component", "group", "class"):
        if name in attrs_:
            payload[name] = attrs_[name]
    details = custom_details(message, used)
    if details:
        payload["custom_details"] = details
    event: dict[str, Any] = {"routing_key": channel.routing_key, "event_action": "trigger"}
    if key:  # without one PagerDuty makes a key up and returns it (stored as meta)
        event["dedup_key"] = key
    event["payload"] = payload
    event["client"] = CLIENT
    if message.actions:
        event["links"] = links(message)
    return fit(event)


def change_event(channel: PagerDutyChannel, message: Message) -> dict[str, Any]:
    """A ``/v2/change/enqueue`` event: no severity, no dedup key, no action.

    A message that reports an acknowledge or resolve says so in ``custom_details.state``.
    """
    attrs_, used = attributes(channel, message)
    payload: dict[str, Any] = {
        "summary": summary(message),
        "timestamp": timestamp(message),
        "source": attrs_["source"],
    }
    state = {"state": message.state} if message.state != "trigger" else None
    details = custom_details(message, used & {"source"}, state)
    if details:
        payload["custom_details"] = details
    event: dict[str, Any] = {"routing_key": channel.routing_key, "payload": payload}
    if message.actions:
        event["links"] = links(message)
    return fit(event)


# -- the 512 KB limit ----------------------------------------------------------------


def encoded_size(event: Any) -> int:
    """Bytes on the wire, serialised exactly as the core sends it."""
    return len(Payload(body=event).content())


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _capped(value: Any, cap: int) -> Any:
    """``value`` with every string longer than ``cap`` bytes cut to ``cap``, marker included."""
    if isinstance(value, str):
        return truncate_bytes(value, cap) if len(value.encode()) > cap else value
    if isinstance(value, Mapping):
        return {k: _capped(v, cap) for k, v in value.items()}
    if isinstance(value, list):
        return [_capped(v, cap) for v in value]
    return value


def _with_details(event: dict[str, Any], details: dict[str, Any]) -> dict[str, Any]:
    return {**event, "payload": {**event["payload"], "custom_details": details}}


def fit(event: dict[str, Any], limit: int = EVENT_BYTES_LIMIT) -> dict[str, Any]:
    """The event, shrunk to ``limit`` bytes if it is bigger, biggest values first.

    1. Cap the longest strings in ``custom_details`` (one cap for all, as high as fits),
       each cut one ending with the marker.
    2. Still too big (a huge number of small values): replace whole details, biggest
       first, with a marker note, then drop the last ones and say how many.
    3. Then drop links from the end. A summary, source and keys this big cannot be
       fitted: that is a :class:`PayloadError`, not a silent cut.
    """
    if encoded_size(event) <= limit:
        return event
    details = event["payload"].get("custom_details") or {}
    longest = max((len(s.encode()) for s in _strings(details)), default=0)
    if longest > _MIN_STRING_BYTES:
        low, high = _MIN_STRING_BYTES, longest
        while low < high:  # the highest cap that fits
            mid = (low + high + 1) // 2
            if encoded_size(_with_details(event, _capped(details, mid))) <= limit:
                low = mid
            else:
                high = mid - 1
        details = _capped(details, low)
        event = _with_details(event, details)
        if encoded_size(event) <= limit:
            return event
    event = _drop_details(event, details, limit)
    if encoded_size(event) <= limit:
        return event
    event = _drop_links(event, limit)
    size = encoded_size(event)
    if size > limit:
        raise PayloadError(
            f"pagerduty event is {size} bytes even without its details and links, over "
            f"PagerDuty's {limit}; shorten source, component, group or class"
        )
    return event


def _drop_details(event: dict[str, Any], details: dict[str, Any], limit: int) -> dict[str, Any]:
    sizes = {k: encoded_size({k: v}) for k, v in details.items()}
    over = encoded_size(event) - limit
    kept = dict(details)
    for name in sorted(sizes, key=sizes.__getitem__, reverse=True):
        if over <= 0:
            break
        note = f"{MARKER} ({sizes[name]} bytes left out: PagerDuty takes 512 KB per event)"
        saved = sizes[name] - encoded_size({name: note})
        if saved <= 0:
            break
        kept[name] = note
        over -= saved
    event = _with_details(event, kept)
    if encoded_size(event) <= limit:
        return event
    names = list(kept)

    def first(n: int) -> dict[str, Any]:
        trimmed = {name: kept[name] for name in names[:n]}
        left_out = f"{MARKER} {len(names) - n} more details left out (512 KB limit)"
        return _with_details(event, {**trimmed, _free(trimmed, MARKER): left_out})

    low, high = 0, len(names) - 1
    while low < high:  # the most details that fit, in their order
        mid = (low + high + 1) // 2
        if encoded_size(first(mid)) <= limit:
            low = mid
        else:
            high = mid - 1
    return first(low)


def _drop_links(event: dict[str, Any], limit: int) -> dict[str, Any]:
    all_links = event.get("links") or []
    details = dict(event["payload"].get("custom_details") or {})
    note = _free(details, "links")
    kept = list(all_links)
    while kept and encoded_size(event) > limit:
        kept = kept[: len(kept) // 2]
        left_out = f"{MARKER} {len(all_links) - len(kept)} more links left out (512 KB limit)"
        event = _with_details({**event, "links": kept}, {**details, note: left_out})
    if not kept:
        event = {k: v for k, v in event.items() if k != "links"}
    return event
