"""Real SMTP servers on 127.0.0.1 for the e-mail tests (aiosmtpd), and what they saw.

``mail_server(mode=..., auth=...)`` starts one: plain, STARTTLS or implicit TLS with a
certificate from a CA the session makes (``tls.ca_file`` is what a channel's
``ca_file`` points at), AUTH accepted for one account, replies scripted per command
(``server.script("DATA", "451 4.3.0 try later")``) and recipients refused by address.
Every accepted message is recorded raw and parsed with Python's ``email`` parser.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import threading
from collections import deque
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import attrs
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

import notify_email
from notify_core import Channel, Message, Providers
from notify_core.plugin import Outcome, SendContext

USER = "alerts@example.com"
PASSWORD = "s3cr3t:p@ss/w0rd%?"  # every character a URL must escape, and more


@attrs.frozen
class TLS:
    """A CA the tests trust, and a server certificate for 127.0.0.1 it signed."""

    ca_file: str
    server_context: ssl.SSLContext
    other_ca_file: str  # a CA that did not sign the server's certificate


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLS:
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    trustme.CA().cert_pem.write_to_path(str(folder / "other-ca.pem"))
    return TLS(str(folder / "ca.pem"), context, str(folder / "other-ca.pem"))


@attrs.frozen
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    mail_options: tuple[str, ...]
    authenticated: bool
    tls: bool

    @property
    def message(self) -> EmailMessage:
        """The message as a mail client stores it: parsed, with local line ends."""
        data = self.data.replace(b"\r\n", b"\n")
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Handler:
    """aiosmtpd hooks that record, refuse and answer as a test scripts them."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.replies: dict[str, deque[str | None]] = {}
        self.refuse: dict[str, str] = {}
        self.mail_commands = 0
        self.sessions: set[int] = set()
        self.protocols: list[Any] = []  # the server side of each session, to hang up on
        self.ehlo_names: list[str] = []
        self.without_8bitmime = False
        self.lock = threading.Lock()

    def _scripted(self, command: str) -> str | None:
        """The scripted reply to ``command``; None: answer as usual."""
        with self.lock:
            queue = self.replies.get(command)
            return queue.popleft() if queue else None

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.ehlo_names.append(hostname)
        if self.without_8bitmime:
            responses = [r for r in responses if "8BITMIME" not in r]
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.mail_commands += 1
        self.sessions.add(id(session))
        self.protocols.append(server)
        reply = self._scripted("MAIL")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        reply = self._scripted("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self._scripted("DATA")
        if reply:
            return reply
        self.messages.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                data=envelope.original_content,
                mail_options=tuple(envelope.mail_options),
                authenticated=bool(session.authenticated),
                tls=server.transport.get_extra_info("sslcontext") is not None,
            )
        )
        return f"250 2.0.0 OK: queued as Q{len(self.messages)}"


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login.decode() == USER
        and data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MailServer:
    """An aiosmtpd server in its own thread; ``handler`` holds what it saw."""

    def __init__(self, tls: TLS, *, mode: str = "plain", auth: bool = False) -> None:
        self.mode = mode
        self.handler = Handler()
        self.port = free_port()
        kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": self.port}
        kwargs["server_hostname"] = "mx.test"
        if mode == "starttls":
            kwargs.update(tls_context=tls.server_context, require_starttls=True)
        elif mode == "ssl":
            # aiosmtpd only counts STARTTLS as TLS when deciding to offer AUTH; this
            # connection is TLS from its first byte, so AUTH is safe to offer
            kwargs.update(ssl_context=tls.server_context, auth_require_tls=False)
        if auth:
            kwargs.update(authenticator=_authenticator, auth_required=True)
        self.ca_file = tls.ca_file
        self.controller = Controller(self.handler, **kwargs)

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def script(self, command: str, *replies: str | None) -> None:
        """Answer the next ``command`` (MAIL, RCPT, DATA) with ``replies``, in order.

        A ``None`` reply lets that command through as usual.
        """
        with self.handler.lock:
            self.handler.replies.setdefault(command, deque()).extend(replies)

    def hang_up(self) -> None:
        """Close every session from the server side, and return once it is done."""
        done = threading.Event()

        def close() -> None:
            for protocol in self.handler.protocols:
                if protocol.transport is not None:
                    protocol.transport.close()
            done.set()

        self.controller.loop.call_soon_threadsafe(close)
        assert done.wait(5)

    def refuse(self, address: str, reply: str = "550 5.1.1 mailbox unavailable") -> None:
        self.handler.refuse[address] = reply

    def options(self, **extra: Any) -> dict[str, Any]:
        """Channel keys that reach this server (TLS modes trust the test CA)."""
        keys: dict[str, Any] = {"host": "127.0.0.1", "port": self.port, "mode": self.mode}
        if self.mode != "plain":
            keys["ca_file"] = self.ca_file
        keys.update({"from": "Notify <alerts@example.com>", "to": ["ops@example.com"]})
        keys.update(extra)
        return {k: v for k, v in keys.items() if v is not None}

    def channel(self, name: str = "mail", *, timeout: float = 5.0, **extra: Any) -> Channel:
        """A channel of these :meth:`options` (``key=None`` leaves a key out)."""
        return Channel(name=name, provider="email", options=self.options(**extra), timeout=timeout)


@pytest.fixture
def mail_server(tls: TLS) -> Iterator[Callable[..., MailServer]]:
    """``mail_server(mode="starttls", auth=True)``: a started server, stopped after the test."""
    started: list[MailServer] = []

    def start(*, mode: str = "plain", auth: bool = False) -> MailServer:
        server = MailServer(tls, mode=mode, auth=auth)
        server.controller.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.controller.stop()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never says anything (no SMTP greeting)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)  # the kernel completes handshakes; nobody ever accepts or answers
        yield sock.getsockname()[1]


@pytest.fixture
def refused_port() -> int:
    """A port nothing listens on: connections are refused."""
    return free_port()


GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="session")
def providers() -> Providers:
    """Only the e-mail plugin, registered the way the core registers any plugin."""
    registry = Providers()
    registry.register(notify_email, name="email")
    return registry


@pytest.fixture
def attempt(providers: Providers) -> Callable[..., Outcome]:
    """``attempt(channel, message)``: one send on a fresh loop; the pool is closed after."""

    def run(
        channel: Channel, message: Message, *, timeout: float = 5.0, delivery_id: str = "dly_1"
    ) -> Outcome:
        target = providers.validate(channel)
        payload = providers.build(channel, message, delivery_id)
        context = SendContext(delivery_id=delivery_id, attempt=1, timeout=timeout, target=target)

        async def go() -> Outcome:
            try:
                return await providers.send(channel, payload, context, None)  # type: ignore[arg-type]
            finally:
                await notify_email.close_transports()

        return asyncio.run(go())

    return run
