"""A message as an Adaptive Card in the envelope Teams Workflows expect, within 28 KB.

Limits are enforced here by trimming, never by sending what Teams would refuse. First
every part is capped on its own (title, field names and values, button titles, at
most 50 facts and 6 buttons). Then the whole request body is fitted to
:data:`MAX_PAYLOAD_BYTES`, keeping at least :data:`BODY_FLOOR_BYTES` for the body text:
field values are cut shorter, then fewer facts are shown (then, only for absurdly
long button URLs, fewer buttons), and the body text takes the room that is left.
Every cut text ends with the core's marker ``…``; every dropped fact or button is
counted in a note that starts with it ("… 3 more fields not shown").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from notify_core.plugin import (
    MARKER,
    Action,
    Channel,
    Field,
    Message,
    Payload,
    PayloadError,
    Severity,
    cap,
    fit_json,
    json_len,
    state_word,
    truncate,
    utc,
)

from ._settings import Mention, TeamsSettings

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
#: The card uses nothing newer than 1.2 (action styles), the version every Teams
#: client renders: cards declaring 1.5 have been reported to show "this card couldn't
#: be displayed" when posted by the Workflows flow bot and on mobile.
CARD_VERSION = "1.2"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"

#: Teams rejects messages over 28 KB; the whole HTTP body is kept at or under this
#: many bytes (not 28,672) so the envelope the flow adds still fits.
MAX_PAYLOAD_BYTES = 28_000
TITLE_CHARS = 200
FIELD_NAME_CHARS = 100
FIELD_VALUE_CHARS = 500
#: What field values are cut to, before any fact is dropped, when the card is too big.
FIELD_VALUE_SQUEEZED_CHARS = 100
MAX_FACTS = 50
#: Teams shows at most six card actions (its host config's ``maxActions``).
MAX_ACTIONS = 6
ACTION_TITLE_CHARS = 75
#: A URL cannot be cut and still work: a longer one drops its button.
ACTION_URL_BYTES = 2048
CONTEXT_PART_CHARS = 100
#: Room kept for the body text before field values are squeezed and facts dropped.
BODY_FLOOR_BYTES = 6000

LIMITS = {
    "payload_bytes": MAX_PAYLOAD_BYTES,
    "title_chars": TITLE_CHARS,
    "field_name_chars": FIELD_NAME_CHARS,
    "field_value_chars": FIELD_VALUE_CHARS,
    "facts": MAX_FACTS,
    "actions": MAX_ACTIONS,
    "action_title_chars": ACTION_TITLE_CHARS,
    "action_url_bytes": ACTION_URL_BYTES,
}

#: Title colour and size per severity (Adaptive Card ``Colors`` and ``FontSize`` values).
TITLE_STYLE: dict[Severity, tuple[str, str]] = {
    Severity.INFO: ("good", "medium"),
    Severity.WARNING: ("warning", "medium"),
    Severity.ERROR: ("attention", "medium"),
    Severity.CRITICAL: ("attention", "large"),
}
ACTION_STYLE = {"primary": "positive", "danger": "destructive"}


def encoded_size(data: Any) -> int:
    """Bytes on the wire, serialised exactly as the core sends a payload's body."""
    return len(Payload(body=data).content())


def _small(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "isSubtle": True, "size": "small", "wrap": True}


def _more(count: int, what: str) -> str:
    return f"{MARKER} {count} more {what}{'s' if count != 1 else ''} not shown"


def _facts(fields: Sequence[Field], value_chars: int) -> list[dict[str, str]]:
    return [
        {"title": truncate(f.name, FIELD_NAME_CHARS), "value": truncate(f.value, value_chars)}
        for f in fields
    ]


def _buttons(actions: Sequence[Action]) -> tuple[list[dict[str, str]], int]:
    """Up to :data:`MAX_ACTIONS` buttons, and how many actions were left out."""
    usable = [a for a in actions if json_len(a.url) <= ACTION_URL_BYTES and a.url.strip()]
    kept, _ = cap(usable, MAX_ACTIONS)
    buttons = []
    for action in kept:
        button = {
            "type": "Action.OpenUrl",
            "title": truncate(action.label, ACTION_TITLE_CHARS),
            "url": action.url,
        }
        style = ACTION_STYLE.get(action.style)
        if style:
            button["style"] = style
        buttons.append(button)
    return buttons, len(actions) - len(kept)


def _context(channel: Channel, message: Message) -> str:
    """One subtle line: severity (colour is not the only cue), state, event, time, tenant."""
    parts = [message.severity.value.upper()]
    if state_word(message.state):
        parts.append(state_word(message.state))
    if message.event:
        parts.append(truncate(message.event, CONTEXT_PART_CHARS))
    parts.append(utc(message.timestamp).strftime("%Y-%m-%d %H:%M:%S UTC"))
    if channel.tenant:
        parts.append("tenant " + truncate(channel.tenant, CONTEXT_PART_CHARS))
    return " · ".join(parts)


def _mentions(settings: TeamsSettings, message: Message) -> tuple[Mention, ...]:
    if message.severity >= settings.mention_min_severity:
        return settings.mentions
    return ()


class _Card:
    """The parts of one card, assembled for a given number of facts and buttons."""

    def __init__(self, channel: Channel, message: Message, settings: TeamsSettings) -> None:
        color, size = TITLE_STYLE[message.severity]
        if message.state == "resolve":
            color = "good"  # a resolved incident is good news whatever its severity
        self.title = {
            "type": "TextBlock",
            "text": truncate(message.title, TITLE_CHARS),
            "weight": "bolder",
            "size": size,
            "color": color,
            "wrap": True,
        }
        self.mentions = _mentions(settings, message)
        self.facts = _facts(message.fields[:MAX_FACTS], FIELD_VALUE_CHARS)
        self.total_fields = len(message.fields)
        self.buttons, self.dropped_actions = _buttons(message.actions)
        self.context = _context(channel, message)
        self.body = message.body
        self.full_width = settings.full_width

    def squeeze(self, fields: Sequence[Field]) -> None:
        """Cut field values shorter: the step before showing fewer facts."""
        self.facts = _facts(fields[:MAX_FACTS], FIELD_VALUE_SQUEEZED_CHARS)

    def envelope(self, facts: int, buttons: int, body: str | None) -> dict[str, Any]:
        items: list[dict[str, Any]] = [self.title]
        if self.mentions:
            tags = " ".join(f"<at>{m.name}</at>" for m in self.mentions)
            items.append({"type": "TextBlock", "text": tags, "wrap": True})
        if body is not None:
            items.append({"type": "TextBlock", "text": body, "wrap": True})
        if facts:
            items.append({"type": "FactSet", "facts": self.facts[:facts]})
        if facts < self.total_fields:
            items.append(_small(_more(self.total_fields - facts, "field")))
        context = _small(self.context)
        context["separator"] = True
        items.append(context)
        dropped = self.dropped_actions + len(self.buttons) - buttons
        if dropped:
            items.append(_small(_more(dropped, "action")))
        card: dict[str, Any] = {
            "$schema": SCHEMA,
            "type": "AdaptiveCard",
            "version": CARD_VERSION,
            "body": items,
        }
        if buttons:
            card["actions"] = self.buttons[:buttons]
        msteams: dict[str, Any] = {}
        if self.full_width:
            msteams["width"] = "Full"
        if self.mentions:
            msteams["entities"] = [
                {
                    "type": "mention",
                    "text": f"<at>{m.name}</at>",
                    "mentioned": {"id": m.id, "name": m.name},
                }
                for m in self.mentions
            ]
        if msteams:
            card["msteams"] = msteams
        return {
            "type": "message",
            "attachments": [{"contentType": CONTENT_TYPE, "contentUrl": None, "content": card}],
        }


def build(channel: Channel, message: Message, settings: TeamsSettings) -> dict[str, Any]:
    """The Workflows request body for ``message``, at most :data:`MAX_PAYLOAD_BYTES`."""
    card = _Card(channel, message, settings)
    has_body = bool(card.body)
    placeholder = "" if has_body else None
    need = min(json_len(card.body), BODY_FLOOR_BYTES) if has_body else 0

    def size(facts: int, buttons: int) -> int:
        return encoded_size(card.envelope(facts, buttons, placeholder))

    facts, buttons = len(card.facts), len(card.buttons)
    if size(facts, buttons) + need > MAX_PAYLOAD_BYTES:
        card.squeeze(message.fields)
    if size(facts, buttons) + need > MAX_PAYLOAD_BYTES:
        # Fewer facts: size grows with their number once the "N more" note is shown.
        lo, hi, facts = 0, len(card.facts) - 1, -1
        while lo <= hi:
            mid = (lo + hi) // 2
            if size(mid, buttons) + need <= MAX_PAYLOAD_BYTES:
                facts, lo = mid, mid + 1
            else:
                hi = mid - 1
        if facts < 0:  # not even without facts: only huge button URLs get here
            facts = 0
            while buttons and size(0, buttons) + need > MAX_PAYLOAD_BYTES:
                buttons -= 1
    body = None
    if has_body:
        body = fit_json(card.body, MAX_PAYLOAD_BYTES - size(facts, buttons)) or None
    envelope = card.envelope(facts, buttons, body)
    total = encoded_size(envelope)
    if total > MAX_PAYLOAD_BYTES:  # only settings (mentions) can make the frame this big
        raise PayloadError(
            f"teams card is {total} bytes even with the message trimmed, over the "
            f"{MAX_PAYLOAD_BYTES}-byte limit: shorten settings.mentions"
        )
    return envelope
