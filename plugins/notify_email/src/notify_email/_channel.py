"""What an e-mail channel says: which server, which account, who sends to whom.

A channel comes as top-level keys (``host``, ``to``, …), as an Apprise-style URL
(``mailto://user:pass@smtp.example.com:587?to=…&from=…``), or both; everything is
checked here, once, by ``validate_url``, so a typo fails ``notify check`` (exit 2)
instead of becoming a failed delivery. ``build_payload`` and ``send`` read the same
facts again: parsing is pure and cheap.

Errors name the key at fault: ``to``, ``from``, ``mode``… for a key, ``url`` for a part
of the URL. They never show the password: values are shown masked by it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

import attrs

from notify_core.plugin import Channel, InvalidTarget, Masker, SettingsReader, truncate

from ._address import AddressError, Mailbox, parse_mailbox, split_list
from ._limits import CHANNEL_KEYS, RECIPIENT_LIMIT

Mode = Literal["starttls", "ssl", "plain"]
MODES: tuple[Mode, ...] = ("starttls", "ssl", "plain")
#: Submission with STARTTLS, implicit TLS (RFC 8314), plain relay.
DEFAULT_PORTS: dict[Mode, int] = {"starttls": 587, "ssl": 465, "plain": 25}
SCHEMES = ("mailto", "mailtos")
#: Query parameters of the URL form: the keys' names, Apprise's ``name``/``reply``/``smtp``.
URL_PARAMS = ("to", "cc", "bcc", "from", "name", "reply_to", "reply", "mode", "smtp", "ca_file")
_LISTS = ("to", "cc", "bcc", "reply_to")
_HOSTNAME = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?\Z"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
URL_SHAPE = "mailto://user:password@smtp.example.com:587?to=ops@example.com&from=alerts@example.com"


@attrs.frozen(kw_only=True)
class EmailChannel:
    """A validated e-mail channel. The password stays out of ``repr`` (logs, tracebacks)."""

    host: str
    port: int
    mode: Mode
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    sender: Mailbox
    to: tuple[Mailbox, ...] = ()
    cc: tuple[Mailbox, ...] = ()
    bcc: tuple[Mailbox, ...] = ()
    reply_to: tuple[Mailbox, ...] = ()
    ca_file: str | None = None
    verify_tls: bool = True

    @property
    def recipients(self) -> tuple[str, ...]:
        """Every envelope recipient (To, Cc and Bcc), each once, in that order."""
        seen: dict[str, str] = {}
        for box in (*self.to, *self.cc, *self.bcc):
            seen.setdefault(box.address.lower(), box.address)
        return tuple(seen.values())

    @property
    def url(self) -> str:
        """Where the messages go, without the password: the core's rate-limit key."""
        user = f"{quote(self.username, safe='')}@" if self.username else ""
        scheme = "smtps" if self.mode == "ssl" else "smtp"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port}"

    @property
    def secrets(self) -> tuple[str, ...]:
        """The password, raw and as it is written percent-encoded in a URL."""
        if not self.password:
            return ()
        return tuple(dict.fromkeys((self.password, quote(self.password, safe=""))))

    @property
    def display(self) -> str:
        """What ``notify channels`` and ``--dry-run`` show: server, account, recipients."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        who = f" as {self.username}" if self.username else ""
        shown = ", ".join(b.address for b in self.to) or "(no To)"
        extra = [f"+{len(v)} {k}" for k, v in (("cc", self.cc), ("bcc", self.bcc)) if v]
        more = f" ({', '.join(extra)})" if extra else ""
        return f"{host}:{self.port} {self.mode}{who} to {shown}{more}"


# -- reading ---------------------------------------------------------------------------


class _Source:
    """Where each value came from, so an error names the key the user must edit."""

    def __init__(self, channel: Channel, masker: Masker) -> None:
        self.channel = channel
        self.masker = masker
        self.from_url: set[str] = set()

    def key(self, name: str) -> str:
        return "url" if name in self.from_url else name

    def error(self, name: str, message: str) -> InvalidTarget:
        where = f"url {name}=" if name in self.from_url else name
        return InvalidTarget(f"email {where} {message}", key=self.key(name))

    def shown(self, value: str) -> str:
        """A value as an error may quote it: password masked, one line, short."""
        return repr(truncate(" ".join(self.masker.text(value).split()), 80))


def _password_masker(channel: Channel) -> Masker:
    secrets: list[str] = []
    password = channel.options.get("password")
    if isinstance(password, str):
        secrets.append(password)
    if channel.url:
        try:
            raw = urlsplit(channel.url).password
        except ValueError:
            raw = None
        if raw:
            secrets += [raw, unquote(raw)]
    return Masker(secrets)


def read_channel(channel: Channel) -> EmailChannel:
    """Check an e-mail channel's keys, URL and settings; raise :class:`InvalidTarget`."""
    SettingsReader("email", channel.settings, ())  # no settings: refuse any, by name
    source = _Source(channel, _password_masker(channel))
    values: dict[str, Any] = {}
    url_host: str | None = None
    if channel.url:
        values, url_host = _read_url(channel.url, source)
    for name in CHANNEL_KEYS:
        if name in channel.options and channel.options[name] is not None:
            if name in values:
                raise InvalidTarget(
                    f"email {name} is set both in the url and as a key; keep one",
                    key=name,
                )
            values[name] = channel.options[name]
    return _build(values, url_host, source, channel)


def _read_url(url: str, source: _Source) -> tuple[dict[str, Any], str | None]:
    """The URL's parts as channel values, and the URL host when it names the mail domain."""
    shape = f"expected {URL_SHAPE}"
    scheme = url.partition(":")[0].lower()
    if scheme not in SCHEMES:
        raise InvalidTarget(f"email url must start with mailto:// or mailtos://; {shape}")
    if not url[len(scheme) :].startswith("://"):
        raise InvalidTarget(f"email url needs the SMTP server after {scheme}://; {shape}")
    if _CONTROL.search(url) or " " in url:
        raise InvalidTarget("email url contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        detail = source.masker.text(str(exc))
        raise InvalidTarget(f"email url is malformed ({detail}); {shape}") from None
    if parts.path not in ("", "/") or parts.fragment:
        raise InvalidTarget(f"email url takes no path or #fragment; {shape}")
    values: dict[str, Any] = {}
    if scheme == "mailtos":
        values["mode"] = "ssl"
    if port is not None:
        values["port"] = port
    if parts.username is not None or parts.password is not None:
        values["username"] = unquote(parts.username or "")
        if parts.password is not None:
            values["password"] = unquote(parts.password)
    params: dict[str, list[str]] = {}
    for name, value in _query(parts.query):
        name = name.lower()
        if name not in URL_PARAMS:
            raise InvalidTarget(
                f"email url has an unknown parameter {source.shown(name)} "
                f"(known: {', '.join(URL_PARAMS)})"
            )
        params.setdefault("reply_to" if name == "reply" else name, []).append(value)
    for name, items in params.items():
        if name in _LISTS:
            values[name] = ",".join(items)
        elif len(items) > 1:
            raise InvalidTarget(f"email url gives {name}= more than once")
        elif name == "mode" and scheme == "mailtos":
            if items[0].strip().lower() != "ssl":
                raise InvalidTarget(
                    "email url: mailtos:// is implicit TLS (mode ssl); use mailto:// with "
                    f"mode={source.shown(items[0])}"
                )
        else:
            values[name] = items[0]
    url_host = parts.hostname  # urlsplit lower-cases it and strips IPv6 brackets
    if "smtp" in values:  # Apprise: the URL host is the mail domain, smtp= the server
        values["host"] = values.pop("smtp")
    else:
        if url_host:
            values["host"] = url_host
        url_host = None
    source.from_url.update(values)
    return values, url_host


def _query(query: str) -> list[tuple[str, str]]:
    """``name=value`` pairs, percent-decoded; a ``+`` stays a plus (``ops+alerts@x.org``).

    ``parse_qsl`` would read ``+`` as a space, the HTML-form convention, and break the
    plus-addressing that alert mailboxes often use.
    """
    pairs = []
    for item in query.split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def _build(
    values: Mapping[str, Any], url_host: str | None, source: _Source, channel: Channel
) -> EmailChannel:
    host = _host(values.get("host"), source)
    mode = _mode(values.get("mode"), values.get("port"), source)
    port = _port(values.get("port"), mode, source)
    username = _text(values.get("username"), "username", source)
    password = _text(values.get("password"), "password", source, secret=True)
    if password is not None and username is None:
        raise source.error("password", "is set but username is not; set both or neither")
    if username is not None and password is None:
        raise InvalidTarget(
            "email password is missing: username is set, so the server needs one "
            '(password = "${SMTP_PASSWORD}")',
            key=source.key("username"),
        )
    if mode == "plain" and password is not None:
        raise source.error(
            "mode",
            'plain would send the password unencrypted; use mode "starttls" (587) or "ssl" (465)',
        )
    ca_file = _text(values.get("ca_file"), "ca_file", source)
    if ca_file is not None and mode == "plain":
        raise source.error("ca_file", 'needs a TLS mode ("starttls" or "ssl"), not plain')
    to, cc, bcc, reply_to = (_mailboxes(values.get(n), n, source) for n in _LISTS)
    sender = _sender(values, username, url_host, source)
    count = len({b.address.lower() for b in (*to, *cc, *bcc)})
    if count == 0:
        key = "url" if channel.adhoc else "to"
        raise InvalidTarget(
            "email needs at least one recipient: to (or cc, bcc), e.g. "
            + ("?to=ops@example.com in the url" if key == "url" else 'to = ["ops@example.com"]'),
            key=key,
        )
    if count > RECIPIENT_LIMIT:
        raise source.error("to", f"and cc, bcc name {count} recipients; at most {RECIPIENT_LIMIT}")
    return EmailChannel(
        host=host,
        port=port,
        mode=mode,
        username=username,
        password=password,
        sender=sender,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        ca_file=ca_file,
        verify_tls=channel.verify_tls,
    )


def _host(value: Any, source: _Source) -> str:
    if value is None or value == "":
        if source.channel.adhoc:
            raise InvalidTarget(f"email url needs the SMTP server; expected {URL_SHAPE}")
        raise InvalidTarget(
            f'email needs the SMTP server: host = "smtp.example.com", or url = "{URL_SHAPE}"',
            key="host",
        )
    if not isinstance(value, str):
        raise source.error("host", "must be a host name or IP address")
    host = value.strip().removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _HOSTNAME.match(host) or host.replace(".", "").isdigit():
        raise source.error(
            "host",
            f"{source.shown(host)} is not a host name or IP address (ASCII; write an "
            "international name in its xn-- form)",
        )
    return host.rstrip(".").lower()


def _mode(value: Any, port: Any, source: _Source) -> Mode:
    if value is None:
        # implicit TLS is what port 465 speaks; plain is never guessed
        return "ssl" if str(port).strip() == str(DEFAULT_PORTS["ssl"]) else "starttls"
    text = str(value).strip().lower() if isinstance(value, str) else None
    for mode in MODES:
        if text == mode:
            return mode
    raise source.error(
        "mode",
        f"must be one of {', '.join(MODES)} (starttls: 587, ssl: 465, plain: 25), not "
        f"{source.shown(str(value))}",
    )


def _port(value: Any, mode: Mode, source: _Source) -> int:
    if value is None:
        return DEFAULT_PORTS[mode]
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())  # "${SMTP_PORT}" resolves to a string
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise source.error(
            "port", f"must be a port number from 1 to 65535, not {source.shown(str(value))}"
        )
    return value


def _text(value: Any, name: str, source: _Source, *, secret: bool = False) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise source.error(name, "must be a non-empty string")
    if _CONTROL.search(value):
        raise source.error(name, "contains a line break or control character")
    if not secret and value != value.strip():
        raise source.error(name, f"has spaces around it: {source.shown(value)}")
    return value


def _mailboxes(value: Any, name: str, source: _Source) -> tuple[Mailbox, ...]:
    if value is None:
        return ()
    items: Sequence[Any]
    if isinstance(value, str):
        items = list(split_list(value))
    elif isinstance(value, list | tuple):
        items = [
            part
            for item in value
            for part in (split_list(item) if isinstance(item, str) else [item])
        ]
    else:
        raise source.error(
            name, 'must be an address or a list of addresses, e.g. ["ops@example.com"]'
        )
    boxes: list[Mailbox] = []
    for item in items:
        if not isinstance(item, str):
            raise source.error(name, "must hold strings (addresses)")
        if not item.strip() and isinstance(value, str):
            continue  # a trailing comma
        try:
            boxes.append(parse_mailbox(item))
        except AddressError as exc:
            raise source.error(name, f"{source.shown(item)} {exc}") from None
    return tuple(boxes)


def _sender(
    values: Mapping[str, Any], username: str | None, url_host: str | None, source: _Source
) -> Mailbox:
    raw = values.get("from")
    name = values.get("name")
    if raw is None:
        if username and "@" in username:
            raw = username
        elif username and url_host:  # Apprise: mailto://user:pass@example.com?smtp=…
            raw = f"{username}@{url_host}"
        elif source.channel.adhoc:
            raise InvalidTarget(
                "email needs a sender: add &from=alerts@example.com to the url (a username "
                "that is an address is used when from= is not set)"
            )
        else:
            raise InvalidTarget(
                'email needs a sender: from = "Alerts <alerts@example.com>" (a username '
                "that is an address is used when from is not set)",
                key="from",
            )
        if "username" in source.from_url:
            source.from_url.add("from")
    if not isinstance(raw, str):
        raise source.error("from", 'must be one address, e.g. "Alerts <alerts@example.com>"')
    items = [i for i in split_list(raw) if i.strip()]
    if len(items) != 1:
        raise source.error("from", "must be exactly one address")
    try:
        sender = parse_mailbox(items[0])
    except AddressError as exc:
        raise source.error("from", f"{source.shown(items[0])} {exc}") from None
    if name is not None:
        if sender.name:
            raise source.error("name", "and a display name in from= both name the sender; keep one")
        try:
            named = parse_mailbox(f'"{_quoted(name)}" <{sender.address}>')
        except AddressError as exc:
            raise source.error("name", f"{source.shown(name)} {exc}") from None
        sender = named
    return sender


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
