"""Message → Discord webhook body: one embed, coloured by severity, within Discord's limits.

Layout::

    content           mentions and the headline, only when someone is to be pinged
    embeds[0]         title (→ first action's URL) · description (body) · fields ·
                      Links field (the other actions) · footer (severity · event · tenant)
                      · timestamp · colour bar
    allowed_mentions  only the configured users and roles may be pinged: an
                      ``@everyone`` in event data shows as text and pings nobody

Discord's limits (its API documentation): content ≤ 2,000 characters; ≤ 10 embeds per
message whose title, description, field names and values, footer and author together
hold ≤ 6,000 characters; title ≤ 256, description ≤ 4,096, ≤ 25 fields with name ≤ 256
and value ≤ 1,024, footer ≤ 2,048. They are kept here by trimming with the core's
marker, never left to Discord (which refuses the whole message with a 400): parts are
capped one by one, then fields are dropped from the end (counted in the footer) until
the description has at least :data:`DESCRIPTION_FLOOR` characters, and the description
takes what is left.
"""

from __future__ import annotations

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

CONTENT_CHARS = 2000
MAX_EMBEDS = 10
EMBED_TOTAL_CHARS = 6000
TITLE_CHARS = 256
DESCRIPTION_CHARS = 4096
MAX_FIELDS = 25
FIELD_NAME_CHARS = 256
FIELD_VALUE_CHARS = 1024
FOOTER_CHARS = 2048
#: Room the description keeps before fields give way.
DESCRIPTION_FLOOR = 1000
#: Shown where Discord requires text and the message has none (a field without a name).
BLANK = "\u200b"
LINKS = "Links"

LIMITS = {
    "content_chars": CONTENT_CHARS,
    "embeds": MAX_EMBEDS,
    "embed_total_chars": EMBED_TOTAL_CHARS,
    "title_chars": TITLE_CHARS,
    "description_chars": DESCRIPTION_CHARS,
    "fields": MAX_FIELDS,
    "field_name_chars": FIELD_NAME_CHARS,
    "field_value_chars": FIELD_VALUE_CHARS,
    "footer_chars": FOOTER_CHARS,
}

Json = dict[str, Any]


def color(severity: Severity) -> int:
    """The core's severity colour as the integer Discord wants (``0xE01E5A``)."""
    return int(severity_color(severity).lstrip("#"), 16)


def embed_chars(embed: Json) -> int:
    """What Discord counts toward the 6,000 characters of a message's embeds."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    total += len(embed.get("footer", {}).get("text", ""))
    total += len(embed.get("author", {}).get("name", ""))
    return total


def build(message: Message, settings: Settings, tenant: str | None) -> Json:
    """The webhook body for ``message`` (pure: same message, same body)."""
    body: Json = {}
    content = _content(message, settings)
    if content:
        body["content"] = content
    if settings.username:
        body["username"] = settings.username
    if settings.avatar_url:
        body["avatar_url"] = settings.avatar_url
    body["embeds"] = [_embed(message, tenant)]
    body["allowed_mentions"] = {
        "parse": [],
        "users": list(settings.mention_users),
        "roles": list(settings.mention_roles),
    }
    return body


def _mentions(message: Message, settings: Settings) -> list[str]:
    if message.state != "trigger" or message.severity < settings.mention_min_severity:
        return []
    return [f"<@{u}>" for u in settings.mention_users] + [
        f"<@&{r}>" for r in settings.mention_roles
    ]


def _content(message: Message, settings: Settings) -> str:
    """Mentions only ping from ``content``: the headline follows them, cut to fit."""
    mentions = " ".join(_mentions(message, settings))  # ≤ 40 ids of ≤ 28 chars: fits
    if not mentions:
        return ""
    headline = " ".join(message.title.split()) or message.event or "Notification"
    return truncate(f"{mentions} {headline}", CONTENT_CHARS)


def _footer(message: Message, tenant: str | None, note: str) -> str:
    parts = [message.severity.value.upper()]
    if state_word(message.state):
        parts.append(state_word(message.state))
    if message.event.strip():
        parts.append(truncate(message.event.strip(), 200))
    if tenant:
        parts.append("tenant " + truncate(tenant, 100))
    if note:
        parts.append(note)
    return truncate(" · ".join(parts), FOOTER_CHARS)


def _usable(actions: Sequence[Action]) -> list[Action]:
    """Actions Discord can link to: http(s) URLs short enough to be clickable."""
    return [a for a in actions if a.url.startswith(("https://", "http://")) and len(a.url) <= 2048]


def _links_field(actions: Sequence[Action]) -> Json | None:
    """The actions after the first as markdown links, as many as fit in one field."""
    links: list[str] = []
    used = 0
    for i, action in enumerate(actions):
        label = truncate(" ".join(action.label.split()).replace("]", ")"), 80) or "link"
        link = f"[{label}]({action.url})"
        more = f"{MARKER} {len(actions) - i} more"
        if used + len(link) + 3 + len(more) > FIELD_VALUE_CHARS:
            links.append(more)
            break
        links.append(link)
        used += len(link) + 3
    if not links:
        return None
    return {"name": LINKS, "value": " · ".join(links), "inline": False}


def _embed(message: Message, tenant: str | None) -> Json:
    severity = Severity.INFO if message.state == "resolve" else message.severity
    embed: Json = {"color": color(severity)}
    title = truncate(" ".join(message.title.split()), TITLE_CHARS)
    if title:
        embed["title"] = title
    actions = _usable(message.actions)
    if actions and title:
        embed["url"] = actions[0].url  # the title links to the first action
        actions = actions[1:]
    fields = [
        {
            "name": truncate(f.name.strip(), FIELD_NAME_CHARS) or BLANK,
            "value": truncate(f.value.strip(), FIELD_VALUE_CHARS) or BLANK,
            "inline": f.short,
        }
        for f in message.fields
    ]
    links = _links_field(actions)
    room_for_fields = MAX_FIELDS - (1 if links else 0)
    kept, hidden = cap(fields, room_for_fields)
    wanted = min(len(message.body.strip()), DESCRIPTION_CHARS)
    floor = min(wanted, DESCRIPTION_FLOOR)
    extra = [links] if links else []

    def total(fields_: list[Json], note: str) -> int:
        probe = {"title": title, "fields": fields_ + extra}
        return embed_chars(probe) + len(_footer(message, tenant, note))

    note = _hidden_note(hidden)
    while kept and total(kept, _hidden_note(hidden + 1)) + floor > EMBED_TOTAL_CHARS:
        kept.pop()
        hidden += 1
        note = _hidden_note(hidden)
    room = min(DESCRIPTION_CHARS, EMBED_TOTAL_CHARS - total(kept, note))
    description = truncate(message.body.strip(), room)
    if description:
        embed["description"] = description
    if kept or extra:
        embed["fields"] = kept + extra
    embed["footer"] = {"text": _footer(message, tenant, note)}
    embed["timestamp"] = utc(message.timestamp).isoformat()
    return embed


def _hidden_note(hidden: int) -> str:
    if not hidden:
        return ""
    return f"{MARKER} {hidden} more field{'s' if hidden != 1 else ''} not shown"
