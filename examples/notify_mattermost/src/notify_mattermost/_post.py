"""Message → Mattermost incoming-webhook body: Slack-compatible ``text`` and ``attachments``.

Layout (``rich = true``)::

    text          mention (on failures, if configured) and the headline in **bold**
    attachments   [{fallback, color (severity), text (body + links), fields, footer}]

With ``rich = false`` everything is one Markdown ``text``. Mattermost renders
Markdown, so the caller's ``**bold**``, lists and ``[links](…)`` pass through as
written; only the broadcast mentions (``@channel``, ``@all``, ``@here``) in caller
text are defused with a zero-width space, so event data cannot page a whole channel —
the configured ``mention_on_failure`` is the only broadcast.

Sizes are notify's caps, chosen to stay well inside Mattermost's 16,383-character post
limit: every text is cut with the core's marker; fields beyond :data:`MAX_FIELDS` are
dropped and counted in the footer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from notify_core.plugin import (
    MARKER,
    Action,
    Message,
    Severity,
    cap,
    severity_color,
    state_word,
    truncate,
    utc,
)

from ._settings import Settings

TEXT_CHARS = 4000
HEADLINE_CHARS = 300
MAX_FIELDS = 20
FIELD_TITLE_CHARS = 150
FIELD_VALUE_CHARS = 500
FOOTER_CHARS = 300
LINKS_CHARS = 2000

LIMITS = {
    "text_chars": TEXT_CHARS,
    "headline_chars": HEADLINE_CHARS,
    "fields": MAX_FIELDS,
    "field_title_chars": FIELD_TITLE_CHARS,
    "field_value_chars": FIELD_VALUE_CHARS,
    "footer_chars": FOOTER_CHARS,
}
_BROADCAST = re.compile(r"@(channel|all|here)\b", re.IGNORECASE)

Json = dict[str, Any]


def defuse(text: str) -> str:
    """``@channel``/``@all``/``@here`` shown, not notified."""
    return _BROADCAST.sub("@\u200b\\1", text)


def build(message: Message, settings: Settings, tenant: str | None) -> Json:
    body: Json = (
        _rich(message, settings, tenant) if settings.rich else _plain(message, settings, tenant)
    )
    for name in ("username", "icon_url", "channel"):
        value = getattr(settings, name)
        if value:
            body[name] = value
    return body


def _headline(message: Message) -> str:
    title = " ".join(message.title.split()) or message.event.strip() or "Notification"
    if state_word(message.state):
        title = f"[{state_word(message.state).upper()}] {title}"
    elif message.severity >= Severity.WARNING:
        title = f"[{message.severity.value.upper()}] {title}"
    return truncate(defuse(title), HEADLINE_CHARS)


def _mention(message: Message, settings: Settings) -> str:
    wanted = settings.mention_on_failure
    if wanted and message.severity >= Severity.ERROR and message.state == "trigger":
        return f"@{wanted} "
    return ""


def _links(actions: Sequence[Action]) -> str:
    links = [
        f"[{defuse(' '.join(a.label.split())).replace(']', ')') or 'link'}]({a.url.strip()})"
        for a in actions
        if a.url.strip().startswith(("https://", "http://")) and " " not in a.url.strip()
    ]
    return truncate(" · ".join(links), LINKS_CHARS) if links else ""


def _footer(message: Message, tenant: str | None, hidden: int) -> str:
    parts = [message.severity.value]
    if message.event.strip():
        parts.append(message.event.strip())
    parts.append(utc(message.timestamp).strftime("%Y-%m-%d %H:%M:%S UTC"))
    if tenant:
        parts.append(f"tenant {tenant}")
    if hidden:
        parts.append(f"{MARKER} {hidden} more field{'s' if hidden != 1 else ''} not shown")
    return truncate(defuse(" · ".join(parts)), FOOTER_CHARS)


def _rich(message: Message, settings: Settings, tenant: str | None) -> Json:
    headline = _headline(message)
    links = _links(message.actions)
    text = defuse(message.body.strip())
    room = TEXT_CHARS - (len(links) + 2 if links else 0)
    details = "\n\n".join(p for p in (truncate(text, room), links) if p)
    kept, hidden = cap(list(message.fields), MAX_FIELDS)
    fields = [
        {
            "title": truncate(defuse(f.name.strip()), FIELD_TITLE_CHARS),
            "value": truncate(defuse(f.value.strip()), FIELD_VALUE_CHARS),
            "short": f.short,
        }
        for f in kept
    ]
    severity = Severity.INFO if message.state == "resolve" else message.severity
    attachment: Json = {"fallback": headline, "color": severity_color(severity)}
    if details:
        attachment["text"] = details
    if fields:
        attachment["fields"] = fields
    attachment["footer"] = _footer(message, tenant, hidden)
    return {"text": f"{_mention(message, settings)}**{headline}**", "attachments": [attachment]}


def _plain(message: Message, settings: Settings, tenant: str | None) -> Json:
    """One Markdown text; blocks apart, so a list in the body does not swallow the fields.

    The body takes the room the other blocks leave, so the footer always shows.
    """
    head = f"{_mention(message, settings)}**{_headline(message)}**"
    kept, hidden = cap(list(message.fields), MAX_FIELDS)
    fields = "\n".join(
        f"**{truncate(defuse(f.name.strip()), FIELD_TITLE_CHARS)}**: "
        f"{truncate(defuse(f.value.strip()), FIELD_VALUE_CHARS)}"
        for f in kept
    )
    tail = [b for b in (fields, _links(message.actions)) if b]
    tail.append(f"_{_footer(message, tenant, hidden)}_")
    used = len(head) + sum(len(b) + 2 for b in tail)
    body = truncate(defuse(message.body.strip()), max(0, TEXT_CHARS - used - 2))
    blocks = [head, body, *tail] if body else [head, *tail]
    return {"text": truncate("\n\n".join(blocks), TEXT_CHARS)}
