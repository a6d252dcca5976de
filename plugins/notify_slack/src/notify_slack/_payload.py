"""Message → Slack payload: Block Kit for incoming webhooks, flat variables for triggers.

Layout (incoming webhook, ``rich = true``)::

    text          fallback for notifications and clients without Block Kit (≤ 3000)
    blocks        header (title) · mentions · body section · field sections · actions
    attachments   [{color, blocks: [context: severity · event · time · tenant · notes]}]
    thread_ts     when the message names a thread

Why the colour lives in an attachment that carries only the context line, rather than
wrapping every block in the coloured attachment: Slack treats attachments as
secondary content. It may fold a long attachment behind "Show more", and when a
message has no top-level ``blocks`` it *displays* the top-level ``text`` above the
attachment, so the title and body would show twice (or the fallback would have to be
empty, and notifications would say nothing). Top-level blocks are always shown in full
and ``text`` then only serves notifications and screen readers. The small coloured
attachment underneath still gives the severity bar at a glance, next to the line that
names the severity in words (the colour alone is not accessible).

Limits are enforced here, never left to Slack (which rejects the whole message with
``invalid_blocks``): every text is cut with the core's marker ``…``; the block budget
(50, the attachment's included) is shared so that at least one row of buttons
survives; anything dropped is counted in a visible note in the context line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from notify_core.plugin import (
    Action,
    Field,
    Message,
    Severity,
    cap,
    chunks,
    severity_color,
    state_word,
    truncate,
    utc,
)

from ._mrkdwn import escape, fit, from_markdown
from ._settings import Settings

# Slack's documented Block Kit limits (and our caps on top-level text).
MAX_BLOCKS = 50
HEADER_TEXT = 150
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
BUTTON_TEXT = 75
BUTTON_URL = 3000
ACTIONS_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
TEXT_OBJECT = 3000
FALLBACK_TEXT = 3000
#: Slack asks to keep a message's ``text`` under 4,000 characters (it truncates at 40,000).
PLAIN_TEXT = 4000
TRIGGER_VALUE = 3000

LIMITS: dict[str, int] = {
    "blocks": MAX_BLOCKS,
    "header_text": HEADER_TEXT,
    "section_text": SECTION_TEXT,
    "section_fields": SECTION_FIELDS,
    "field_text": FIELD_TEXT,
    "button_text": BUTTON_TEXT,
    "button_url": BUTTON_URL,
    "actions_elements": ACTIONS_ELEMENTS,
    "context_elements": CONTEXT_ELEMENTS,
    "text_object": TEXT_OBJECT,
    "fallback_text": FALLBACK_TEXT,
    "plain_text": PLAIN_TEXT,
    "trigger_value": TRIGGER_VALUE,
}

Json = dict[str, Any]


def incoming(message: Message, settings: Settings, tenant: str | None) -> Json:
    """The body for an incoming webhook: Block Kit, or ``text`` alone when not rich."""
    mentions = _mentions(message, settings)
    body: Json = (
        _rich(message, mentions, tenant)
        if settings.rich
        else {"text": _plain(message, mentions, tenant)}
    )
    if message.thread_id:
        body["thread_ts"] = message.thread_id
    return body


def trigger(message: Message, tenant: str | None) -> Json:
    """The body for a Workflow Builder webhook trigger: flat string variables.

    Workflow Builder reads only top-level keys with string values (a Block Kit body
    would reach the workflow as nothing usable), and only the variables declared in
    the workflow are used: declare the ones you need among these keys. Values are
    plain text, cut at 3000 characters with the marker.
    """
    usable = [a for a in message.actions if 0 < len(a.url.strip()) <= BUTTON_URL]
    values = {
        "text": _summary(message),
        "title": message.title,
        "body": message.body,
        "severity": message.severity.value,
        "event": message.event,
        "state": message.state,
        "timestamp": utc(message.timestamp).isoformat(),
        "tenant": tenant or "",
        "fields": "\n".join(f"{f.name}: {f.value}" for f in message.fields),
        "actions": "\n".join(f"{a.label}: {a.url.strip()}" for a in usable),
        "url": usable[0].url.strip() if usable else "",
    }
    return {key: truncate(value, TRIGGER_VALUE) for key, value in values.items()}


# -- rich ------------------------------------------------------------------------------


def _rich(message: Message, mentions: Sequence[str], tenant: str | None) -> Json:
    blocks: list[Json] = []
    if message.title.strip():
        blocks.append(_header(message.title))
    if mentions:
        blocks.append(_section(" ".join(mentions)))
    if message.body.strip():
        blocks.append(_section(fit(from_markdown(message.body), SECTION_TEXT)))

    texts = [_field_text(f) for f in message.fields if f.name.strip() or f.value.strip()]
    field_groups = [list(g) for g in chunks(texts, SECTION_FIELDS)]
    buttons, long_urls, no_urls = _buttons(message.actions)
    action_groups = [list(g) for g in chunks(buttons, ACTIONS_ELEMENTS)]

    budget = MAX_BLOCKS - len(blocks) - 1  # the attachment's context block counts too
    kept_f, kept_a = _share(budget, len(field_groups), len(action_groups))
    blocks += [{"type": "section", "fields": g} for g in field_groups[:kept_f]]
    blocks += [{"type": "actions", "elements": g} for g in action_groups[:kept_a]]

    notes = []
    hidden_fields = sum(len(g) for g in field_groups[kept_f:])
    hidden_actions = sum(len(g) for g in action_groups[kept_a:])
    if hidden_fields:
        notes.append(f"{_count(hidden_fields, 'more field')} not shown")
    if hidden_actions:
        notes.append(f"{_count(hidden_actions, 'more action')} not shown")
    if long_urls:
        notes.append(
            f"{_count(long_urls, 'action')} dropped: URL longer than {BUTTON_URL} characters"
        )
    if no_urls:
        notes.append(f"{_count(no_urls, 'action')} dropped: no URL")
    context = {"type": "context", "elements": _context(message, tenant, notes)}
    color = severity_color(Severity.INFO if message.state == "resolve" else message.severity)
    return {
        "text": _fallback(message, mentions),
        "blocks": blocks,
        "attachments": [{"color": color, "blocks": [context]}],
    }


def _share(budget: int, field_blocks: int, action_blocks: int) -> tuple[int, int]:
    """How many field sections and actions blocks fit in ``budget`` blocks.

    Fields come first in the layout, but one row of buttons ("View results") is worth
    more than the last section of a message that already shows hundreds of fields, so
    a row of actions is reserved before fields take the rest; further action rows get
    what is left.
    """
    if field_blocks + action_blocks <= budget:
        return field_blocks, action_blocks
    actions = min(action_blocks, 1)
    fields = min(field_blocks, budget - actions)
    return fields, min(action_blocks, budget - fields)


def _header(title: str) -> Json:
    text = truncate(" ".join(title.split()), HEADER_TEXT)  # headers are one line
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _section(text: str) -> Json:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _field_text(field: Field) -> Json:
    name = escape(field.name.strip())
    value = from_markdown(field.value)
    text = f"*{name}*\n{value}" if name else value
    return {"type": "mrkdwn", "text": fit(text, FIELD_TEXT)}


def _buttons(actions: Sequence[Action]) -> tuple[list[Json], int, int]:
    """Buttons for the actions, and how many were dropped for a too long or empty URL.

    A URL over Slack's limit is dropped, not cut: a cut URL is a broken link that
    looks like a working one. Slack rejects an empty URL, so that action goes too.
    """
    buttons: list[Json] = []
    too_long = empty = 0
    for action in actions:
        url = action.url.strip()
        if len(url) > BUTTON_URL:
            too_long += 1
            continue
        if not url:
            empty += 1
            continue
        label = truncate(" ".join(action.label.split()), BUTTON_TEXT) or "Open"
        button: Json = {
            "type": "button",
            "text": {"type": "plain_text", "text": label, "emoji": True},
            "url": url,
            "action_id": f"notify-action-{len(buttons)}",
        }
        if action.style in ("primary", "danger"):
            button["style"] = action.style
        buttons.append(button)
    return buttons, too_long, empty


def _context(message: Message, tenant: str | None, notes: Sequence[str]) -> list[Json]:
    items = [f"*{message.severity.value}*"]
    if state_word(message.state):
        items.append(state_word(message.state))
    if message.event.strip():
        items.append(escape(message.event.strip()))
    items.append(_date(message.timestamp))
    if tenant:
        items.append(f"tenant: {escape(tenant)}")
    items += notes
    kept, _ = cap(items, CONTEXT_ELEMENTS)
    return [{"type": "mrkdwn", "text": fit(t, TEXT_OBJECT)} for t in kept]


def _fallback(message: Message, mentions: Sequence[str]) -> str:
    """The top-level ``text``: what a push notification or a screen reader says."""
    head = " ".join([*mentions, escape(_summary(message))])
    if message.body.strip():
        head += "\n" + from_markdown(message.body)
    return fit(head, FALLBACK_TEXT)


# -- plain -----------------------------------------------------------------------------


def _plain(message: Message, mentions: Sequence[str], tenant: str | None) -> str:
    """Everything as one mrkdwn ``text``: for channels where cards are unwanted."""
    lines = [" ".join(mentions)] if mentions else []
    lines.append(f"*{escape(_summary(message))}*")
    if message.body.strip():
        lines.append(fit(from_markdown(message.body), SECTION_TEXT))
    lines += [f"*{escape(f.name)}*: {from_markdown(f.value)}" for f in message.fields]
    for action in message.actions:
        url = action.url.strip()
        if url and len(url) <= BUTTON_URL:
            link = url.replace("&", "&amp;").replace("|", "%7C").replace(">", "%3E")
            lines.append(f"<{link}|{escape(action.label)}>")
    footer = [message.severity.value, state_word(message.state)]
    footer += [escape(message.event), _date(message.timestamp)]
    footer.append(f"tenant: {escape(tenant)}" if tenant else "")
    lines.append(" · ".join(p for p in footer if p))
    return fit("\n".join(lines), PLAIN_TEXT)


# -- shared ----------------------------------------------------------------------------


def _mentions(message: Message, settings: Settings) -> list[str]:
    """``<!channel>``/``<!here>`` for a failure being raised, then the configured users.

    A broadcast goes out only for severity error or worse and never for an acknowledge
    or resolve: nobody should be woken to hear that an incident is over.
    """
    found: list[str] = []
    if (
        settings.mention_on_failure
        and message.severity >= Severity.ERROR
        and message.state == "trigger"
    ):
        found.append(f"<!{settings.mention_on_failure}>")
    return found + settings.user_mentions()


def _summary(message: Message) -> str:
    """The one-line headline: the title, or the event when there is no title."""
    title = " ".join(message.title.split()) or message.event.strip() or "Notification"
    if message.severity >= Severity.WARNING and message.state == "trigger":
        return f"[{message.severity.value.upper()}] {title}"
    if state_word(message.state):
        return f"[{state_word(message.state).upper()}] {title}"
    return title


def _date(moment: datetime) -> str:
    """Slack's date token: each reader sees the time in their own time zone."""
    moment = utc(moment)
    shown = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time_secs}}|{shown}>"


date_token = _date


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
