"""E-mail addresses as a channel names them: parsed strictly, once, at configuration time.

Addresses end up in two places where a stray character does harm: SMTP command lines
(``MAIL FROM:<…>``, ``RCPT TO:<…>``) and message headers. Both are protected further
down (aiosmtplib refuses CR/LF on command lines, :mod:`email` refuses them in headers),
but a malformed address found there fails a delivery at 3 a.m.; found here, it fails
``notify check`` with a line that names the key to fix.

The accepted shape is deliberately narrower than RFC 5322: a dot-atom local part (no
quoted local parts, no comments) and a host name or address literal, ASCII only. That
covers every address people actually configure, and nothing in it needs quoting on an
SMTP command line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import attrs

#: RFC 5322 ``atext``: what a dot-atom local part is made of.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*\Z")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\Z")
_LITERAL = re.compile(r"\[(?:[0-9.]+|IPv6:[0-9A-Fa-f:.]+)\]\Z")
#: A display name followed by an address in angle brackets; the name may be quoted.
_NAMED = re.compile(
    r'\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^"<>]*?))\s*<(?P<addr>[^<>]*)>\s*\Z'
)
#: C0 controls, DEL and the Unicode line separators: never part of a name or address.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")

LOCAL_PART_LIMIT = 64
ADDRESS_LIMIT = 254
DISPLAY_NAME_LIMIT = 200


class AddressError(ValueError):
    """Why a text is not an address this plugin accepts (one line, no secret)."""


@attrs.frozen
class Mailbox:
    """An address with an optional display name (``Ops Team <ops@example.com>``)."""

    address: str
    name: str = ""

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


def check_address(text: str) -> str:
    """``text`` as a plain address (``local@domain``), or :class:`AddressError`."""
    address = text.strip()
    if not address:
        raise AddressError("is empty")
    if _CONTROL.search(address):
        raise AddressError("contains a line break or control character")
    if not address.isascii():
        raise AddressError(
            "has non-ASCII characters (SMTPUTF8 addresses are not supported; write an "
            "international domain in its xn-- form)"
        )
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise AddressError("is not an e-mail address (expected name@example.com)")
    if len(local) > LOCAL_PART_LIMIT or len(address) > ADDRESS_LIMIT:
        raise AddressError("is too long for an e-mail address")
    if not _LOCAL.match(local):
        raise AddressError(
            "has a local part (before @) that needs quoting; use letters, digits, dots "
            "and !#$%&'*+/=?^_`{|}~-"
        )
    if not (_DOMAIN.match(domain) or _LITERAL.match(domain)):
        raise AddressError("has an invalid domain (after @)")
    return address


def parse_mailbox(text: str) -> Mailbox:
    """``addr``, ``Name <addr>`` or ``"Name, with comma" <addr>`` as a :class:`Mailbox`."""
    if _CONTROL.search(text):
        raise AddressError("contains a line break or control character")
    named = _NAMED.match(text)
    if named is None:
        if "<" in text or ">" in text or '"' in text:
            raise AddressError('is not an address nor Name <address> (check < > and ")')
        return Mailbox(check_address(text))
    quoted = named["quoted"]
    name = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else named["bare"].strip()
    if len(name) > DISPLAY_NAME_LIMIT:
        raise AddressError(f"has a display name over {DISPLAY_NAME_LIMIT} characters")
    return Mailbox(check_address(named["addr"]), " ".join(name.split()))


def split_list(text: str) -> Iterator[str]:
    """The comma-separated items of ``text``; commas inside quotes or ``<…>`` do not split."""
    item: list[str] = []
    quoted = angled = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"' and not angled:
            quoted = not quoted
        elif char == "<" and not quoted:
            angled = True
        elif char == ">" and not quoted:
            angled = False
        elif char == "," and not quoted and not angled:
            yield "".join(item)
            item = []
            continue
        item.append(char)
    yield "".join(item)
