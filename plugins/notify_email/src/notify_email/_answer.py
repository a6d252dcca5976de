"""What an SMTP server's answers mean for a delivery: delivered, retry or failed.

SMTP says it in the first digit of its reply codes (RFC 5321 §4.2.1): 2 done, 4
transient (try again later), 5 permanent. Transport trouble (refused, reset, timed
out) is transient too. Two cases are permanent whatever the digit says about the
future: a TLS certificate that does not verify and a server that lacks what the
channel requires (STARTTLS, AUTH); retrying cannot fix configuration. A refused login
also counts toward auto-disabling the channel (``disables``): every message would fail
alike until someone fixes the password.

Reasons carry the server's own words (``SMTP 550: mailbox unavailable``), one line,
trimmed, with every secret of the channel masked: servers do echo what they were sent.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from notify_core.plugin import Masker, Outcome, truncate

REASON_LIMIT = 300


@attrs.frozen
class Refusal:
    """A recipient the server would not take, and its reply."""

    address: str
    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.address} ({self.code} {self.text})"


class AllRefused(Exception):
    """Every recipient was refused: nothing was sent (the envelope was reset)."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        super().__init__(", ".join(str(r) for r in refusals))
        self.refusals = tuple(refusals)


@attrs.frozen
class Sent:
    """A transaction the server accepted (for at least one recipient)."""

    code: int
    text: str
    refused: tuple[Refusal, ...] = ()
    connection_reused: bool = False


def _reply(text: str) -> str:
    """A multi-line server reply on one line."""
    return " ".join(str(text).split())


def _reason(masker: Masker, text: str) -> str:
    return truncate(masker.text(text), REASON_LIMIT)


def delivered(sent: Sent, message_id: str, masker: Masker) -> Outcome:
    """Accepted; refused recipients, if any, are named in the reason and the meta."""
    reason = f"SMTP {sent.code}: {_reply(sent.text)}" if sent.text else f"SMTP {sent.code}"
    meta: dict[str, Any] = {"message_id": message_id}
    if sent.refused:
        reason = "delivered, but refused " + ", ".join(str(r) for r in sent.refused) + f"; {reason}"
        meta["refused"] = {r.address: f"{r.code} {_reply(r.text)}" for r in sent.refused}
    return Outcome.delivered(
        _reason(masker, reason),
        response_excerpt=_reason(masker, _reply(sent.text)),
        meta=_masked(masker, meta),
    )


def _masked(masker: Masker, meta: Mapping[str, Any]) -> dict[str, Any]:
    masked: dict[str, Any] = masker.data(dict(meta))
    return masked


def _cert_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _by_code(code: int, what: str, masker: Masker) -> Outcome:
    """4xx: transient; anything else (5xx, or a code out of place): permanent."""
    reason = _reason(masker, what)
    if 400 <= code < 500:
        return Outcome.retry(reason)
    return Outcome.failed(reason)


def failure(
    exc: BaseException, *, server: str, username: str | None, timeout: float, masker: Masker
) -> Outcome:
    """The outcome of an exchange that raised ``exc`` (any exception of the attempt)."""
    import aiosmtplib  # loaded by now: it raised ``exc``; not at plugin import (~50 ms)

    from ._smtp import CAFileError

    if isinstance(exc, CAFileError):
        return Outcome.failed(_reason(masker, str(exc)))
    cert = _cert_error(exc)
    if cert is not None:
        detail = cert.verify_message or str(cert)
        return Outcome.failed(
            _reason(
                masker,
                f"TLS certificate of {server} did not verify ({detail}); for a private server "
                "set ca_file to its CA certificate",
            )
        )
    if isinstance(exc, AllRefused):
        codes = [r.code for r in exc.refusals]
        text = "SMTP refused every recipient: " + ", ".join(str(r) for r in exc.refusals)
        if any(400 <= c < 500 for c in codes):
            return Outcome.retry(_reason(masker, text))
        return Outcome.failed(_reason(masker, text))
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        who = f" for {username}" if username else ""
        what = f"SMTP authentication failed{who}: {exc.code} {_reply(exc.message)}"
        if 400 <= exc.code < 500:  # 454: temporary authentication failure
            return Outcome.retry(_reason(masker, what))
        return Outcome.failed(
            _reason(masker, what + "; check username and password"), disables=True
        )
    if isinstance(exc, aiosmtplib.SMTPSenderRefused) and exc.code >= 500:
        what = f"SMTP {exc.code}: sender {exc.sender} refused: {_reply(exc.message)}"
        # a server that will not take mail from this sender refuses every message alike
        return Outcome.failed(_reason(masker, what), disables=True)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _by_code(exc.code, f"SMTP {exc.code}: {_reply(exc.message)}", masker)
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError | asyncio.TimeoutError):
        detail = _reply(str(exc)) or "no answer"
        return Outcome.retry(
            _reason(masker, f"SMTP timeout after {timeout:g}s talking to {server}: {detail}")
        )
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPConnectError | OSError):
        return Outcome.retry(
            _reason(masker, f"SMTP connection to {server} failed: {_reply(str(exc))}")
        )
    if isinstance(exc, aiosmtplib.SMTPException):  # STARTTLS or AUTH not offered, and such
        return Outcome.failed(_reason(masker, f"SMTP server {server}: {_needs(exc)}"))
    return Outcome.failed(_reason(masker, f"email send error: {type(exc).__name__}: {exc}"))


def _needs(exc: BaseException) -> str:
    """What a capability refusal means for the channel's configuration."""
    text = _reply(str(exc))
    lowered = text.lower()
    if "starttls" in lowered:
        return f'{text} (mode "starttls" requires it; use mode "ssl" for port 465)'
    if "auth" in lowered:
        return f"{text} (the channel sets a username; does this server take logins?)"
    return text
