"""HTTP clients as the core configures them: one aiohttp pool, TLS verified, no redirects.

Imported on the first send only: httpx and aiohttp cost ~0.1 s each to import, and a
command that only queues never sends.
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
import sys
import weakref
from collections.abc import Mapping
from typing import Any, Literal

from ._reroute import reroute


def _import_httpx() -> None:
    """Import httpx without its command-line tool, which is ~40 ms of rich and click.

    ``httpx/__init__`` imports ``httpx._main`` (the ``httpx`` console script) whenever
    click and rich are installed, and typer brings both. Marking it unimportable for
    the duration makes httpx fall back to its stub ``main``; the mark is removed
    afterwards, so ``import httpx._main`` still works for anyone who wants it.
    """
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx  # noqa: F401
    finally:
        if sys.modules.get("httpx._main", ...) is None:
            del sys.modules["httpx._main"]


_import_httpx()
import httpx  # noqa: E402

#: Which connection pool sends: aiohttp's (the default: ~2,000 requests/s through httpx,
#: more on the direct path) or httpx's own (httpcore: slower under concurrency, but
#: ~80 ms cheaper to import, which is most of a one-message ``notify send``).
Pool = Literal["aiohttp", "httpx"]

#: How much of an answer is read: enough for any provider's error, never a whole page.
READ_LIMIT = 64 * 1024


class RerouteTransport(httpx.AsyncBaseTransport):
    """Applies the ``NOTIFY_REROUTE`` seam to requests made through the httpx API."""

    def __init__(self, inner: httpx.AsyncBaseTransport, mapping: Mapping[str, str]) -> None:
        self._inner = inner
        self._map = dict(mapping)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        original = str(request.url)
        target = reroute(original, self._map)
        if target != original:
            request.url = httpx.URL(target)
            request.headers["Host"] = request.url.netloc.decode("ascii")
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@functools.cache
def tls_context(verify: bool = True) -> ssl.SSLContext:
    """One TLS context per process: loading the CA bundle costs ~50 ms, every time.

    Without this, each blocking ``Notifier.send`` (a new event loop, so new clients)
    paid that price again: a training loop sending per epoch would feel it.
    """
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        import certifi
    except ImportError:  # pragma: no cover - httpx depends on certifi
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _connect_error(exc: Exception) -> str:
    """aiohttp's words for a failed connection, without its ``ssl:default`` noise."""
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        why = os.strerror(cause.errno) if cause.errno else str(cause) or type(cause).__name__
        return f"cannot connect to {exc.host}:{exc.port}: {why}"
    return str(exc) or type(exc).__name__


class DirectSender:
    """The core's own requests, straight through aiohttp's connection pool.

    Measured on a 2-core machine against nginx (DESIGN §7): httpcore's pool falls
    from ~900 to ~270 requests/s as concurrency grows; httpx over aiohttp's connector
    holds ~2,000/s; aiohttp alone ~7,000/s. So plugins get the httpx API (over the same
    pool) while the core's generic send, the hot path, skips httpx's per-request
    machinery. Answers are still handed to plugins as ``httpx.Response``.
    """

    def __init__(self, session: Any, reroute_map: Mapping[str, str]) -> None:
        self.session = session
        self.reroute = dict(reroute_map)

    async def exchange(
        self, method: str, url: str, *, content: bytes, headers: Mapping[str, str], timeout: float
    ) -> RawAnswer:
        """One request through the pool; the answer read (to :data:`READ_LIMIT`), not wrapped."""
        import aiohttp
        import yarl

        target = reroute(url, self.reroute) if self.reroute else url
        try:
            async with self.session.request(
                method,
                # encoded=True: send the URL byte for byte; re-encoding would turn a
                # Workflows URL's %2F into / and break its signature
                yarl.URL(target, encoded=True),
                data=content,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as answer:
                # read to the end (or the limit): a body cut short raises here, so an answer
                # lost mid-way is retried like any broken connection
                body = b""
                while len(body) < READ_LIMIT:
                    chunk = await answer.content.read(READ_LIMIT - len(body))
                    if not chunk:
                        break
                    body += chunk
                return RawAnswer(answer.status, answer.headers, answer.raw_headers, body)
        except (TimeoutError, asyncio.TimeoutError) as exc:  # two classes on Python 3.10
            raise httpx.TimeoutException(str(exc) or "timed out") from exc
        except aiohttp.ClientError as exc:
            raise httpx.TransportError(_connect_error(exc)) from exc

    async def request(
        self, method: str, url: str, *, content: bytes, headers: Mapping[str, str], timeout: float
    ) -> httpx.Response:
        """:meth:`exchange`, the answer as the ``httpx.Response`` plugins are given."""
        answer = await self.exchange(method, url, content=content, headers=headers, timeout=timeout)
        return answer.response()


class RawAnswer:
    """aiohttp's answer as the core reads it (:class:`~._answers.Answer`), nothing more.

    ``headers`` is aiohttp's own case-insensitive view; :meth:`response` makes the
    ``httpx.Response`` a plugin's hooks are given, only when one asks.
    """

    __slots__ = ("content", "headers", "raw_headers", "status_code")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        raw_headers: tuple[tuple[bytes, bytes], ...],
        content: bytes,
    ) -> None:
        self.status_code = status
        self.headers = headers
        self.raw_headers = raw_headers
        self.content = content

    @property
    def reason_phrase(self) -> str:
        """The standard phrase of the status, as ``httpx.Response.reason_phrase`` gives it."""
        return httpx.codes.get_reason_phrase(self.status_code)

    def response(self) -> httpx.Response:
        # content-encoding was undone by aiohttp: do not let httpx decode again
        headers = [(k, v) for k, v in self.raw_headers if k.lower() != b"content-encoding"]
        # no `request=`: building an httpx.Request re-parses the URL, which cost more than
        # the rest of this function; classify hooks read status, headers and body
        return httpx.Response(self.status_code, headers=headers, content=self.content)


_DIRECT: weakref.WeakKeyDictionary[httpx.AsyncClient, DirectSender] = weakref.WeakKeyDictionary()


def direct_sender(client: httpx.AsyncClient) -> DirectSender | None:
    """The fast path for a client made by :func:`make_client`, if it has one."""
    return _DIRECT.get(client)


def _aiohttp(context: ssl.SSLContext, limits: httpx.Limits) -> tuple[Any, httpx.AsyncBaseTransport]:
    """One aiohttp pool behind both the fast path and the httpx client for plugins."""
    try:
        import aiohttp
        from httpx_aiohttp import AiohttpTransport
    except ImportError:  # pragma: no cover - declared dependencies; httpx alone still works
        return None, httpx.AsyncHTTPTransport(verify=context, limits=limits)
    connector = aiohttp.TCPConnector(
        ssl=context, limit=limits.max_connections or 100, keepalive_timeout=30
    )
    session = aiohttp.ClientSession(
        connector=connector, headers={"User-Agent": "notify"}, trust_env=False
    )
    return session, AiohttpTransport(client=session)


def make_client(
    *,
    verify: bool,
    concurrency: int,
    transport: httpx.AsyncBaseTransport | None,
    reroute_map: Mapping[str, str],
    pool: Pool = "aiohttp",
) -> httpx.AsyncClient:
    """A client as the core configures them (see :class:`~notify_core._http.Clients`)."""
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    context = tls_context(verify)
    session = None
    if transport is None and pool == "httpx":
        transport = httpx.AsyncHTTPTransport(verify=context, limits=limits)
    elif transport is None:
        session, transport = _aiohttp(context, limits)
    if reroute_map:
        transport = RerouteTransport(transport, reroute_map)
    client = httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        verify=context,
        limits=limits,
        headers={"User-Agent": "notify"},
    )
    if session is not None:
        _DIRECT[client] = DirectSender(session, reroute_map)
    return client
