"""The MIME message, built purely: same channel, message and delivery id, same bytes.

Headers are set through :class:`email.message.EmailMessage` with ``email.policy.default``,
which encodes non-ASCII text (RFC 2047) and refuses CR/LF in any header value; on top of
that every value taken from the message is made one line first (``one_line``), so a
title such as ``"x\\r\\nBcc: evil@x"`` stays one harmless Subject. Config values
(addresses, names) were checked when the channel was read.

Nothing here may read a clock or draw a random number (the contract checks it): ``Date``
is the message's timestamp, ``Message-ID`` comes from the delivery id (stable across
retries, so a repeated message is recognisable), the thread root from the channel and
the thread key, and the multipart boundary from a hash of the content.

Parts use ``8bit`` (``7bit`` when ASCII) whenever every line fits SMTP's 998 octets, so
``--dry-run`` and the store show readable text; ``send`` re-encodes for the rare server
without 8BITMIME. A part with a longer line travels as quoted-printable.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from datetime import timezone
from email.generator import BytesGenerator
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.policy import default as _default_policy
from email.utils import format_datetime

from notify_core.plugin import Message, Payload

from ._address import Mailbox
from ._channel import EmailChannel
from ._content import Content, content, one_line
from ._html import render_html
from ._plain import render_text

POLICY = _default_policy  # linesep "\n": the payload keeps lines; send adds CRLF
#: RFC 5321 §4.5.3.1.6: a line is at most 998 octets plus CRLF.
LINE_LIMIT = 998
_ID_LEFT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+\Z")


def message_id(delivery_id: str, domain: str) -> str:
    """``<delivery-id@sender-domain>``: stable across every attempt of one delivery."""
    left = delivery_id if _ID_LEFT.match(delivery_id) and ".." not in delivery_id else None
    if left is None or left.startswith(".") or left.endswith("."):
        left = hashlib.sha256(delivery_id.encode()).hexdigest()[:32]
    return f"<{left}.notify@{domain}>"


def thread_key(message: Message) -> str | None:
    """What ties messages into one conversation: the thread id, else the dedup key."""
    return message.thread_id or message.dedup_key or None


def thread_root(channel_key: str, key: str, domain: str) -> str:
    """The id every message of a thread refers to: derived, so nothing is stored.

    No message carries it as its own Message-ID; clients still group every message
    whose ``References`` names it, the first one of the thread included.
    """
    digest = hashlib.sha256(f"{channel_key}\0{key}".encode()).hexdigest()[:32]
    return f"<thread.{digest}.notify@{domain}>"


def _part(text: str, subtype: str) -> MIMEPart:
    part = MIMEPart(policy=POLICY)
    data = text.encode("utf-8")
    if any(len(line) > LINE_LIMIT for line in data.split(b"\n")):
        cte = "quoted-printable"
    else:
        cte = "7bit" if data.isascii() else "8bit"
    part.set_content(text, subtype=subtype, charset="utf-8", cte=cte)
    return part


def _boundary(*parts: bytes) -> str:
    digest = hashlib.sha256(b"\0".join(parts)).hexdigest()[:32]
    return f"=_notify_{digest}"


def build_mime(
    email: EmailChannel, channel_key: str, message: Message, delivery_id: str
) -> tuple[EmailMessage, Content]:
    """The whole message (headers, text part, HTML part) and what it shows."""
    item = content(message, delivery_id)
    domain = email.sender.domain
    msg = EmailMessage(policy=POLICY)
    msg["From"] = _addresses([email.sender])
    # only Bcc recipients: say so, as mail clients do, rather than leave To out
    msg["To"] = _addresses(email.to) if email.to else "undisclosed-recipients:;"
    if email.cc:
        msg["Cc"] = _addresses(email.cc)
    if email.reply_to:
        msg["Reply-To"] = _addresses(email.reply_to)
    msg["Subject"] = item.subject
    timestamp = message.timestamp
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=timezone.utc)
    msg["Date"] = format_datetime(timestamp)
    msg["Message-ID"] = message_id(delivery_id, domain)
    key = thread_key(message)
    if key is not None:
        root = thread_root(channel_key, key, domain)
        msg["In-Reply-To"] = root
        msg["References"] = root
    # RFC 3834: vacation responders and auto-forwarders must not answer a notification
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Notify-Delivery"] = one_line(delivery_id)
    msg["X-Notify-Severity"] = message.severity.value
    if item.event:
        msg["X-Notify-Event"] = item.event
    text, html = _part(render_text(item), "plain"), _part(render_html(item), "html")
    msg["MIME-Version"] = "1.0"
    boundary = _boundary(bytes(text), bytes(html))
    msg["Content-Type"] = f'multipart/alternative; boundary="{boundary}"'
    msg.set_payload([text, html])
    return msg, item


def _addresses(boxes: Sequence[Mailbox]) -> tuple[Address, ...]:
    """Header address objects: the policy quotes and encodes display names itself."""
    return tuple(Address(display_name=b.name, addr_spec=b.address) for b in boxes)


def flatten(msg: EmailMessage) -> bytes:
    """The message as it travels (``\\n`` line ends; ``send`` sends them as CRLF)."""
    out = io.BytesIO()
    BytesGenerator(out, policy=POLICY, mangle_from_=False).flatten(msg)
    return out.getvalue()


def build_payload(
    email: EmailChannel, channel_key: str, message: Message, delivery_id: str
) -> Payload:
    """The payload ``--dry-run`` shows and ``send`` transmits (see the README: body shape)."""
    msg, item = build_mime(email, channel_key, message, delivery_id)
    lines = flatten(msg).decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    body = {
        "envelope": {"mail_from": email.sender.address, "rcpt_to": list(email.recipients)},
        "subject": item.subject,
        "message_id": str(msg["Message-ID"]),
        "mime": lines,
    }
    return Payload(body=body, content_type="message/rfc822")
