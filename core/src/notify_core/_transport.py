"""HTTP clients as the core configures them, and the ``NOTIFY_REROUTE`` test seam."""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Mapping

import httpx

from ._errors import ConfigError

REROUTE_ENV = "NOTIFY_REROUTE"


def parse_reroute(value: str | None) -> dict[str, str]:
    """``https://hooks.slack.com=http://127.0.0.1:8080,…`` as an origin → origin map.

    This is a test seam, documented as such: it lets end-to-end tests point real,
    fully validated provider URLs at a local server without weakening validation.
    """
    mapping: dict[str, str] = {}
    for item in (value or "").replace(" ", ",").split(","):
        if not item.strip():
            continue
        origin, sep, replacement = item.partition("=")
        if not sep:
            raise ConfigError(f"{REROUTE_ENV}: expected ORIGIN=ORIGIN, got {item!r}")
        mapping[_origin(httpx.URL(origin.strip()))] = replacement.strip()
    return mapping


def _origin(url: httpx.URL) -> str:
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


class RerouteTransport(httpx.AsyncBaseTransport):
    """Sends requests for some origins to others, keeping path and query."""

    def __init__(self, inner: httpx.AsyncBaseTransport, mapping: Mapping[str, str]) -> None:
        self._inner = inner
        self._map = {k: httpx.URL(v) for k, v in mapping.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        replacement = self._map.get(_origin(request.url))
        if replacement is not None:
            request.url = request.url.copy_with(
                scheme=replacement.scheme, host=replacement.host, port=replacement.port
            )
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


class Clients:
    """The shared async clients: one per TLS-verification choice, made on first use.

    Redirects are never followed: a webhook that redirects elsewhere would carry the
    payload (and its auth headers) to a host nobody configured.
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        concurrency: int = 32,
        reroute: Mapping[str, str] | None = None,
    ) -> None:
        self._transport = transport
        self._concurrency = concurrency
        self._reroute = dict(
            reroute if reroute is not None else parse_reroute(os.environ.get(REROUTE_ENV))
        )
        self._clients: dict[bool, httpx.AsyncClient] = {}

    def get(self, verify: bool = True) -> httpx.AsyncClient:
        client = self._clients.get(verify)
        if client is None:
            limits = httpx.Limits(
                max_connections=self._concurrency * 2, max_keepalive_connections=self._concurrency
            )
            context = tls_context(verify)
            transport = self._transport or httpx.AsyncHTTPTransport(verify=context, limits=limits)
            if self._reroute:
                transport = RerouteTransport(transport, self._reroute)
            client = httpx.AsyncClient(
                transport=transport,
                follow_redirects=False,
                verify=context,
                limits=limits,
                headers={"User-Agent": "notify"},
            )
            self._clients[verify] = client
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
