"""The SMTP exchange, with connections reused across a burst of messages.

A new SMTP session costs a TCP connection, a greeting, EHLO, usually a TLS handshake
and a second EHLO, then AUTH: five or more round trips before the first byte of mail,
and a TLS handshake's CPU. A burst of alerts to one server (a failing pipeline stage
fanning out, a digest) pays that once per connection here, not once per message.

The pool is small and cautious:

* one per running event loop (connections belong to the loop that opened them), keyed
  by everything that makes a session: host, port, mode, account (username and a hash
  of the password), CA file and verification;
* at most :data:`MAX_CONNECTIONS` per key, each carrying one transaction at a time;
* an idle connection is closed (QUIT) after :data:`IDLE_SECONDS`, long before servers
  drop idle clients (RFC 5321 suggests 5 minutes);
* a connection that saw any error is closed, never returned: after a timeout or a
  refused command its state is not worth trusting;
* a reused connection that turns out to be closed by the server before the
  transaction started (the ``MAIL`` command finds it gone) is replaced once,
  transparently: nothing of the message had been sent.

:func:`close_all` closes what the pool holds (the plugin's ``close_transports``).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import hashlib
import io
import re
import socket
import ssl
import threading
from collections.abc import Sequence
from email.generator import BytesGenerator
from typing import Any

import aiosmtplib
import attrs

from ._answer import AllRefused, Refusal, Sent
from ._channel import EmailChannel

_HOSTNAME = re.compile(r"[A-Za-z0-9.-]{1,253}\Z")

#: Connections kept per server and account.
MAX_CONNECTIONS = 4
#: An idle connection is closed after this many seconds.
IDLE_SECONDS = 5.0
#: How long a polite QUIT may take when closing.
QUIT_TIMEOUT = 2.0
#: How long closing the pool waits for TLS sessions to finish shutting down.
LINGER = 1.0


@attrs.frozen
class ServerKey:
    """What makes two messages able to share an SMTP session."""

    host: str
    port: int
    mode: str
    username: str | None
    account: str = attrs.field(repr=False)  # a hash of the password: never the password
    ca_file: str | None
    verify: bool

    @classmethod
    def of(cls, channel: EmailChannel) -> ServerKey:
        secret = hashlib.sha256((channel.password or "").encode()).hexdigest()[:16]
        return cls(
            channel.host,
            channel.port,
            channel.mode,
            channel.username,
            secret,
            channel.ca_file,
            channel.verify_tls,
        )


# -- TLS contexts and the EHLO name: made once per process, off the event loop ----------

_contexts: dict[tuple[str | None, bool], ssl.SSLContext] = {}
_contexts_lock = threading.Lock()
_ehlo_name: str | None = None


def _make_context(ca_file: str | None, verify: bool) -> ssl.SSLContext:
    with _contexts_lock:
        context = _contexts.get((ca_file, verify))
        if context is None:
            if verify:
                # the system's trust store, or only the channel's CA for a private server
                context = ssl.create_default_context(cafile=ca_file)
            else:  # the channel said verify_tls = false
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            _contexts[(ca_file, verify)] = context
        return context


class CAFileError(Exception):
    """The channel's ``ca_file`` cannot be read as PEM certificates (configuration)."""


async def tls_context(channel: EmailChannel) -> ssl.SSLContext:
    """The TLS context of a channel (reading CA files happens in a thread, once)."""
    cached = _contexts.get((channel.ca_file, channel.verify_tls))
    if cached is not None:
        return cached
    try:
        return await asyncio.to_thread(_make_context, channel.ca_file, channel.verify_tls)
    except (OSError, ssl.SSLError) as exc:
        if channel.ca_file is None:
            raise
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CAFileError(f"ca_file {channel.ca_file} cannot be used: {detail}") from None


async def ehlo_name() -> str:
    """This host's name for EHLO; looked up once (it may ask DNS), in a thread."""
    global _ehlo_name
    if _ehlo_name is None:
        name = await asyncio.to_thread(socket.getfqdn)
        _ehlo_name = name if _HOSTNAME.match(name) else "localhost"
    return _ehlo_name


# -- connections ------------------------------------------------------------------------


@attrs.define(eq=False)
class Connection:
    """One SMTP session and what the pool knows of it."""

    key: ServerKey
    smtp: aiosmtplib.SMTP
    messages: int = 0
    idle_since: float = 0.0

    @property
    def usable(self) -> bool:
        return self.smtp.is_connected

    @property
    def socket(self) -> Any:
        """The transport's socket (``fileno() == -1`` once it is really closed), or None."""
        transport = self.smtp.transport
        return transport.get_extra_info("socket") if transport is not None else None


class Pool:
    """The connections of one event loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        idle: float = IDLE_SECONDS,
        per_key: int = MAX_CONNECTIONS,
        reuse: bool = True,
    ) -> None:
        self.loop = loop
        self.idle = idle
        self.per_key = per_key
        self.reuse = reuse
        self.closed = False
        self._idle: dict[ServerKey, list[Connection]] = {}
        self._slots: dict[ServerKey, asyncio.Semaphore] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._lingering: list[Any] = []  # sockets of sessions still closing
        #: connections opened (a figure for tests and the benchmark)
        self.opened = 0

    # -- the idle list ---------------------------------------------------------------

    def _take(self, key: ServerKey) -> Connection | None:
        idle = self._idle.get(key, [])
        while idle:
            conn = idle.pop()  # the most recently used: the least likely to be stale
            if conn.usable:
                return conn
            self._hang_up(conn)
        return None

    def _hang_up(self, conn: Connection, sock: Any = None) -> None:
        """Close now; remember the socket, which a TLS session closes a moment later.

        ``sock`` is the socket as it was before aiosmtplib may have closed the session
        itself (after QUIT, a 421, a timeout), when ``conn`` no longer knows it.
        """
        sock = sock if sock is not None else conn.socket
        conn.smtp.close()
        if sock is not None and sock.fileno() != -1:
            self._lingering = [s for s in self._lingering if s.fileno() != -1] + [sock]

    async def _quit(self, conn: Connection) -> None:
        """QUIT politely (bounded), then close whatever happens."""
        sock = conn.socket
        try:
            if conn.smtp.is_connected:
                await conn.smtp.quit(timeout=QUIT_TIMEOUT)
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
            pass
        finally:
            self._hang_up(conn, sock)

    def _give_back(self, conn: Connection) -> None:
        if self.closed or not self.reuse or not conn.usable:
            self._close_soon(conn)
            return
        conn.idle_since = self.loop.time()
        self._idle.setdefault(conn.key, []).append(conn)
        if self._timer is None:
            self._timer = self.loop.call_later(self.idle, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.reap(self.loop.time())

    def reap(self, now: float) -> int:
        """Close connections idle for :attr:`idle` seconds by ``now``; how many were."""
        closed = 0
        next_due: float | None = None
        for key, idle in list(self._idle.items()):
            keep = []
            for conn in idle:
                due = conn.idle_since + self.idle
                if due <= now or not conn.usable:
                    self._close_soon(conn)
                    closed += 1
                else:
                    keep.append(conn)
                    next_due = due if next_due is None else min(next_due, due)
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]
        if next_due is not None and self._timer is None:
            self._timer = self.loop.call_at(next_due, self._on_timer)
        return closed

    def _close_soon(self, conn: Connection) -> None:
        if not conn.usable:
            self._hang_up(conn)
            return
        task = self.loop.create_task(self._quit(conn))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    @property
    def idle_count(self) -> int:
        return sum(len(v) for v in self._idle.values())

    async def aclose(self) -> None:
        """Close every idle connection; busy ones close when their send ends."""
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        idle = [c for conns in self._idle.values() for c in conns]
        self._idle.clear()
        for conn in idle:
            self._close_soon(conn)
        if self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)
        # let TLS shutdowns finish, so no socket outlives a loop that stops next
        deadline = self.loop.time() + LINGER
        while any(s.fileno() != -1 for s in self._lingering) and self.loop.time() < deadline:
            await asyncio.sleep(0.01)
        self._lingering = []

    # -- one delivery ----------------------------------------------------------------

    async def _connect(self, key: ServerKey, channel: EmailChannel, timeout: float) -> Connection:
        """A connected, TLS-secured (unless plain) and logged-in session.

        STARTTLS and AUTH are done here rather than by ``connect()``, so that when one
        fails the pool still holds the socket and closes it like any other.
        """
        context = None if channel.mode == "plain" else await tls_context(channel)
        smtp = aiosmtplib.SMTP(
            hostname=channel.host,
            port=channel.port,
            use_tls=channel.mode == "ssl",
            start_tls=False,
            tls_context=context,
            timeout=timeout,
            local_hostname=await ehlo_name(),
        )
        await smtp.connect()
        self.opened += 1
        conn = Connection(key, smtp)
        sock = conn.socket
        try:
            if channel.mode == "starttls":
                # required, never optional: a server that does not offer it fails
                await smtp.starttls(timeout=timeout)
            if channel.username is not None and channel.password is not None:
                await smtp.login(channel.username, channel.password, timeout=timeout)
        except BaseException:
            self._hang_up(conn, sock)
            raise
        return conn

    async def deliver(
        self,
        channel: EmailChannel,
        sender: str,
        recipients: Sequence[str],
        data: bytes,
        timeout: float,
    ) -> Sent:
        """One transaction: ``MAIL FROM``, ``RCPT TO`` for each recipient, ``DATA``."""
        key = ServerKey.of(channel)
        slots = self._slots.get(key)
        if slots is None:
            slots = self._slots[key] = asyncio.Semaphore(self.per_key)
        async with slots:
            conn = self._take(key) if self.reuse else None
            if conn is not None:
                try:
                    return await self._on(conn, sender, recipients, data, timeout, reused=True)
                except _Stale:
                    pass  # closed by the server while idle: nothing was sent; start afresh
            conn = await self._connect(key, channel, timeout)
            return await self._on(conn, sender, recipients, data, timeout, reused=False)

    async def _on(
        self,
        conn: Connection,
        sender: str,
        recipients: Sequence[str],
        data: bytes,
        timeout: float,
        *,
        reused: bool,
    ) -> Sent:
        ok = False
        sock = conn.socket
        try:
            sent = await transaction(conn.smtp, sender, recipients, data, timeout, reused=reused)
            conn.messages += 1
            ok = True
            return attrs.evolve(sent, connection_reused=reused)
        finally:
            if ok:
                self._give_back(conn)
            else:  # any error, a cancellation included: this session is done
                self._hang_up(conn, sock)


class _Stale(Exception):
    """A reused connection was found closed before anything of the message was sent."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


async def transaction(
    smtp: aiosmtplib.SMTP,
    sender: str,
    recipients: Sequence[str],
    data: bytes,
    timeout: float,
    *,
    reused: bool = False,
) -> Sent:
    """Send one message on a connected session; raise on refusal (the envelope is reset)."""
    if smtp.is_ehlo_or_helo_needed:  # not yet, when no STARTTLS or AUTH came first
        try:
            await smtp.ehlo(timeout=timeout)
        except aiosmtplib.SMTPHeloError:
            await smtp.helo(timeout=timeout)  # a server from before ESMTP
    options: list[str] = []
    if smtp.supports_extension("8bitmime"):
        options.append("BODY=8BITMIME")
    elif not data.isascii():
        data = seven_bit(data)
    if smtp.supports_extension("size"):
        options.insert(0, f"SIZE={len(data)}")
    try:
        await smtp.mail(sender, options=options, timeout=timeout)
    except aiosmtplib.SMTPServerDisconnected as exc:
        if reused:
            raise _Stale(exc) from exc
        raise
    refused: list[Refusal] = []
    try:
        for recipient in recipients:
            try:
                await smtp.rcpt(recipient, timeout=timeout)
            except aiosmtplib.SMTPRecipientRefused as exc:
                refused.append(Refusal(recipient, exc.code, exc.message))
        if len(refused) == len(recipients):
            raise AllRefused(refused)
        reply = await smtp.data(data, timeout=timeout)
    except (aiosmtplib.SMTPResponseException, AllRefused):
        with contextlib.suppress(aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
            await smtp.rset(timeout=timeout)  # leave the session clean (it is closed anyway)
        raise
    return Sent(reply.code, reply.message, tuple(refused))


def seven_bit(data: bytes) -> bytes:
    """The message re-encoded for a server without 8BITMIME (8bit parts become base64)."""
    msg = email.message_from_bytes(data, policy=email.policy.SMTP)
    out = io.BytesIO()
    BytesGenerator(out, policy=email.policy.SMTP.clone(cte_type="7bit")).flatten(msg)
    return out.getvalue()


# -- one pool per running loop ------------------------------------------------------------

# A plain dict, not weak keys: a pool refers to its loop (so do its sessions), so the
# loop would never be collected anyway; pools of closed loops are dropped instead.
_pools: dict[asyncio.AbstractEventLoop, Pool] = {}
_pools_lock = threading.Lock()


def pool() -> Pool:
    """The pool of the running event loop (made on first use)."""
    loop = asyncio.get_running_loop()
    with _pools_lock:
        found = _pools.get(loop)
        if found is None or found.closed:
            for old in [other for other in _pools if other.is_closed()]:
                del _pools[old]  # asyncio.run() per call: its loops are gone
            found = _pools[loop] = Pool(loop)
        return found


async def close_all() -> None:
    """Close the pooled connections of every loop (awaiting those of the running one).

    A pool on another, still running loop is closed on that loop; one whose loop is
    already closed is dropped (its sockets went with the loop's transports).
    """
    with _pools_lock:
        pools = list(_pools.items())
        _pools.clear()
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:  # pragma: no cover - always awaited on a loop
        running = None
    waits = []
    for loop, found in pools:
        if loop is running:
            waits.append(found.aclose())
        elif not loop.is_closed() and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(found.aclose(), loop)
            waits.append(asyncio.wait_for(asyncio.wrap_future(future), QUIT_TIMEOUT + 1))
    if waits:
        await asyncio.gather(*waits, return_exceptions=True)
