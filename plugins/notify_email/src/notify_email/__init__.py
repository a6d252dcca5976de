"""The e-mail provider: notifications as multipart e-mail over SMTP.

The first provider whose transport is not HTTP. The core still queues, paces, retries,
masks and records every attempt; this plugin validates the channel (server, account,
addresses), builds the whole MIME message purely (``build_payload``, which backs
``--dry-run`` and golden tests), and owns the SMTP exchange in ``send``, ignoring the
core's HTTP client. Connections are pooled per event loop and reused across a burst
(see ``_smtp``); :func:`close_transports` closes them.

Payload body (what ``--dry-run`` shows and the store keeps, masked)::

    {"envelope": {"mail_from": "alerts@example.com",
                  "rcpt_to": ["ops@example.com", "audit@example.com"]},  # Bcc included
     "subject": "[ERROR] Pipeline failed",   # decoded, for people; the header is encoded
     "message_id": "<…@example.com>",
     "mime": ["From: …", "To: …", …]}        # the message, one string per line

``send`` transmits exactly ``mime`` (lines joined with CRLF) to ``envelope``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from notify_core.plugin import (
    Channel,
    Masker,
    Message,
    Outcome,
    Payload,
    PayloadError,
    ProviderSpec,
    Rate,
    RetryPolicy,
    SendContext,
    Target,
    hookimpl,
)

from ._limits import (
    ACTION_LIMIT,
    BODY_LIMIT,
    CHANNEL_KEYS,
    FIELD_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    RECIPIENT_LIMIT,
    TITLE_LIMIT,
)

if TYPE_CHECKING:  # the core's HTTP client is not used: SMTP is this plugin's own transport
    from ._channel import EmailChannel

# Everything else (parsing, MIME, SMTP) loads on the first hook call: notify imports
# every plugin at start-up, for `notify log` and `notify plugins` too.

__all__ = [
    "MAX_MESSAGE_BYTES",
    "NAME",
    "SPEC",
    "build_payload",
    "close_transports",
    "read_channel",
    "register_providers",
    "send",
    "validate_url",
]

NAME = "email"
#: A safety net far above what the trimmed parts can reach (servers commonly take 10+ MB).
MAX_MESSAGE_BYTES = 5 * 1024 * 1024

SPEC = ProviderSpec(
    name=NAME,
    description="E-mail over SMTP (STARTTLS, implicit TLS or plain): text and HTML, threads",
    # Submission servers limit senders per account, and the strictest common one is
    # Microsoft 365's 30 messages a minute per mailbox: 0.5/s sustained stays under it,
    # and a burst of 10 lets an incident's first messages leave together. A relay of
    # your own takes more: set the channel's rate.
    default_rate=Rate(per_second=0.5, burst=10),
    default_retry=RetryPolicy(attempts=6, backoff=2.0, max_delay=600),
    url_patterns=(r"(?i)mailtos?://",),
    capabilities=frozenset({"rich", "threads", "resolve", "fields", "actions"}),
    channel_keys=CHANNEL_KEYS,
    secret_keys=("password",),
    requires_url=False,
    max_payload_bytes=MAX_MESSAGE_BYTES,
    limits={
        "subject_title_chars": TITLE_LIMIT,
        "body_chars": BODY_LIMIT,
        "fields": FIELD_LIMIT,
        "field_name_chars": FIELD_NAME_LIMIT,
        "field_value_chars": FIELD_VALUE_LIMIT,
        "actions": ACTION_LIMIT,
        "recipients": RECIPIENT_LIMIT,
    },
)


@hookimpl
def register_providers() -> Sequence[ProviderSpec]:
    return [SPEC]


def read_channel(channel: Channel) -> EmailChannel:
    """The channel's server, account and addresses, checked (``InvalidTarget`` if not)."""
    from ._channel import read_channel as read

    return read(channel)


@hookimpl
def validate_url(channel: Channel) -> Target | None:
    """The server and account; the password is the secret (never in ``display``).

    The addresses the display shows are declared public: an address like
    ``oncall2024@example.com`` only looks random to the core's URL heuristics.
    """
    email = read_channel(channel)
    boxes = (email.sender, *email.to, *email.cc, *email.bcc, *email.reply_to)
    public = [box.address for box in boxes if box.address in email.display]
    return Target(
        url=email.url, secrets=email.secrets, display=email.display, public=public, state=email
    )


@hookimpl
def build_payload(
    channel: Channel, message: Message, delivery_id: str, target: Target
) -> Payload | None:
    """The whole MIME message and its envelope (pure: see ``_mime``)."""
    from ._mime import build_payload as build

    return build(target.state, channel.key, message, delivery_id)


@hookimpl
def send(payload: Payload, context: SendContext) -> Awaitable[Outcome] | None:
    """One SMTP transaction for ``payload`` (the core's HTTP client is not used)."""
    return _send(context.target.state, payload, context)


def _parts(payload: Payload) -> tuple[str, list[str], bytes, str]:
    """Envelope and message out of a payload this plugin built (or a raw override)."""
    body = payload.body
    try:
        envelope = body["envelope"]
        sender = envelope["mail_from"]
        recipients = envelope["rcpt_to"]
        lines = body["mime"]
        ok = (
            isinstance(sender, str)
            and isinstance(recipients, list)
            and recipients
            and all(isinstance(r, str) for r in recipients)
            and isinstance(lines, list)
            and all(isinstance(line, str) for line in lines)
        )
    except (KeyError, TypeError):
        ok = False
    if not ok:
        raise PayloadError(
            "email payload must be {envelope: {mail_from, rcpt_to: [...]}, mime: [lines]}"
        )
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    return sender, list(recipients), data, str(body.get("message_id", ""))


async def _send(email: EmailChannel, payload: Payload, context: SendContext) -> Outcome:
    from ._answer import delivered, failure
    from ._smtp import pool  # aiosmtplib loads only when something is sent

    masker = Masker((*email.secrets, *context.target.secrets))
    server = f"{email.host}:{email.port}"
    try:
        sender, recipients, data, msg_id = _parts(payload)
    except PayloadError as exc:
        return Outcome.failed(str(exc))
    try:
        sent = await pool().deliver(email, sender, recipients, data, context.timeout)
    except Exception as exc:
        return failure(
            exc, server=server, username=email.username, timeout=context.timeout, masker=masker
        )
    return delivered(sent, msg_id, masker)


@hookimpl
def close_transports() -> Coroutine[Any, Any, None]:
    """Close every pooled SMTP connection; return the coroutine that does it.

    The core calls it when a notifier or worker closes; idle connections also close by
    themselves after a few seconds.
    """
    from ._smtp import close_all

    return close_all()
