"""HTTP clients as the core configures them, and the ``NOTIFY_REROUTE`` test seam."""

from __future__ import annotations

import functools
import ssl
import weakref
from collections.abc import Mapping
from typing import Any

import httpx

from ._reroute import REROUTE_ENV, origin, parse_reroute


def _origin(url: httpx.URL) -> str:
    return origin(str(url))


class RerouteTransport(httpx.AsyncBaseTransport):
    """Sends requests for some origins to others, keeping path and query."""

    def __init__(self, inner: httpx.AsyncBaseTransport, mapping: Mapping[str, str]) -> None:
        self._inner = inner
        self._map = {k: httpx.URL(v) for k, v in mapping.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        rerouted = reroute_url(request.url, self._map)
        if rerouted is not request.url:
            request.url = rerouted
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


_DIRECT: weakref.WeakKeyDictionary[httpx.AsyncClient, DirectSender] = weakref.WeakKeyDictionary()
#: How much of an answer is read: enough for any provider's error, never a whole page.
READ_LIMIT = 64 * 1024


class DirectSender:
    """The core's own requests, straight through aiohttp's connection pool.

    Measured on a 2-core machine against nginx (DESIGN §7): httpcore's pool falls
    from ~900 to ~270 requests/s as concurrency grows; httpx over aiohttp's connector
    holds ~2,000/s; aiohttp alone ~7,000/s. So plugins get the httpx API (over the same
    pool) while the core's generic send, the hot path, skips httpx's per-request
    machinery. Answers are still handed to plugins as ``httpx.Response``.
    """

    def __init__(self, session: Any, reroute: Mapping[str, httpx.URL]) -> None:
        self.session = session
        self.reroute = reroute

    async def request(
        self, method: str, url: str, *, content: bytes, headers: Mapping[str, str], timeout: float
    ) -> httpx.Response:
        import aiohttp
        import yarl

        target = str(reroute_url(httpx.URL(url), self.reroute)) if self.reroute else url
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
                status, raw_headers = answer.status, answer.raw_headers
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise httpx.TimeoutException(str(exc) or "timed out") from exc
        except aiohttp.ClientError as exc:
            raise httpx.TransportError(str(exc) or type(exc).__name__) from exc
        # content-encoding was undone by aiohttp: do not let httpx decode again
        headers_out = [(k, v) for k, v in raw_headers if k.lower() != b"content-encoding"]
        # no `request=`: building an httpx.Request re-parses the URL, which cost more than
        # the rest of this function; classify hooks read status, headers and body
        return httpx.Response(status, headers=headers_out, content=body)


def direct_sender(client: httpx.AsyncClient) -> DirectSender | None:
    """The fast path for a client made by :class:`Clients`, if it has one."""
    return _DIRECT.get(client)


def reroute_url(url: httpx.URL, mapping: Mapping[str, httpx.URL]) -> httpx.URL:
    replacement = mapping.get(_origin(url)) if mapping else None
    if replacement is None:
        return url
    return url.copy_with(scheme=replacement.scheme, host=replacement.host, port=replacement.port)


__all__ = ["REROUTE_ENV", "DirectSender", "direct_sender", "make_client", "parse_reroute"]


def _aiohttp(context: ssl.SSLContext, limits: httpx.Limits) -> tuple[Any, httpx.AsyncBaseTransport]:
    """One aiohttp pool behind both the fast path and the httpx client for plugins.

    Imported here, on first use: aiohttp costs ~0.1 s to import, and a command that
    only queues never sends.
    """
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
    reroute: Mapping[str, str],
) -> httpx.AsyncClient:
    """A client as the core configures them (see :class:`notify_core._clients.Clients`)."""
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    context = tls_context(verify)
    session = None
    if transport is None:
        session, transport = _aiohttp(context, limits)
    if reroute:
        transport = RerouteTransport(transport, reroute)
    client = httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        verify=context,
        limits=limits,
        headers={"User-Agent": "notify"},
    )
    if session is not None:
        _DIRECT[client] = DirectSender(session, {k: httpx.URL(v) for k, v in reroute.items()})
    return client
