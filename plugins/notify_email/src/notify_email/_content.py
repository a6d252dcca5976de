"""What a message shows, trimmed once, for both parts of the e-mail.

The text and HTML parts must say the same thing, so the trimming, the cleaning of
control characters and the choice of links happen here, once; ``_plain`` and ``_html``
only lay it out. E-mail has no hard limits of its own, but a 50 MB alert helps no one
and some servers refuse big messages, so every part has a generous cap that ends with
the core's marker when it cuts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

import attrs

from notify_core.plugin import Message, Severity, cap, severity_color, truncate

from ._limits import (
    ACTION_LABEL_LIMIT,
    ACTION_LIMIT,
    ACTION_URL_LIMIT,
    BODY_LIMIT,
    EVENT_LIMIT,
    FIELD_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    TAG_CHARS,
    TAG_LIMIT,
    TITLE_LIMIT,
)

_STATE_LABELS = {"resolve": "RESOLVED", "acknowledge": "ACKNOWLEDGED"}
#: Everything that breaks a line or is invisible noise in a one-line header value.
_LINE_BREAKS = re.compile(r"[\s\x00-\x1f\x7f\x85\u2028\u2029]+")
#: Control characters that have no place in a text body (tab and newline stay).
_BODY_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def one_line(text: str) -> str:
    """``text`` on one line: every line break, tab and control character becomes a space.

    This is what keeps a title such as ``"x\\r\\nBcc: evil@x"`` one header value.
    """
    return _LINE_BREAKS.sub(" ", text).strip()


def clean_block(text: str) -> str:
    """A multi-line text with ``\\n`` line ends and no control characters but tabs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\x85", "\n")
    return _BODY_CONTROLS.sub("", text)


def web_link(url: str) -> str | None:
    """``url`` if a button may open it: http(s), a host, no spaces, not too long."""
    if len(url) > ACTION_URL_LIMIT or _LINE_BREAKS.search(url) or '"' in url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


@attrs.frozen
class Link:
    label: str
    url: str
    style: str = "default"


@attrs.frozen(kw_only=True)
class Content:
    """The message as both parts show it."""

    label: str  # ERROR, RESOLVED, …: the subject's marker
    title: str
    body: str
    color: str
    fields: tuple[tuple[str, str], ...]
    fields_dropped: int
    links: tuple[Link, ...]
    event: str
    tags: tuple[str, ...]
    delivery_id: str

    @property
    def subject(self) -> str:
        return f"[{self.label}] {self.title}"


def content(message: Message, delivery_id: str) -> Content:
    """Trim and clean ``message`` for an e-mail (pure)."""
    label = _STATE_LABELS.get(message.state, message.severity.value.upper())
    # a resolved incident is good news: it gets the colour of good news
    color = severity_color(Severity.INFO if message.state == "resolve" else message.severity)
    title = one_line(message.title) or one_line(message.event) or "Notification"
    fields, dropped = cap(list(message.fields), FIELD_LIMIT)
    return Content(
        label=label,
        title=truncate(title, TITLE_LIMIT),
        body=truncate(clean_block(message.body).strip("\n"), BODY_LIMIT),
        color=color,
        fields=tuple(
            (
                truncate(one_line(f.name), FIELD_NAME_LIMIT),
                truncate(clean_block(f.value).strip("\n"), FIELD_VALUE_LIMIT),
            )
            for f in fields
        ),
        fields_dropped=dropped,
        links=_links(message),
        event=truncate(one_line(message.event), EVENT_LIMIT),
        tags=tuple(
            truncate(one_line(t), TAG_CHARS) for t in message.tags[:TAG_LIMIT] if one_line(t)
        ),
        delivery_id=one_line(delivery_id),
    )


def _links(message: Message) -> tuple[Link, ...]:
    links: list[Link] = []
    for action in message.actions:
        url = web_link(action.url.strip())
        label = truncate(one_line(action.label), ACTION_LABEL_LIMIT)
        if url is not None and label:
            links.append(Link(label, url, action.style))
        if len(links) == ACTION_LIMIT:
            break
    return tuple(links)


def footer_facts(item: Content) -> Sequence[str]:
    """``event x``, ``tags a, b``, ``delivery id``: the footer line's parts."""
    facts = []
    if item.event:
        facts.append(f"event {item.event}")
    if item.tags:
        facts.append("tags " + ", ".join(item.tags))
    facts.append(f"delivery {item.delivery_id}")
    return facts
