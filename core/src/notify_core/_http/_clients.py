"""The shared HTTP clients of one notifier, made when the first request needs one.

This module imports no HTTP library: a command that only queues (``--wait 0``) never
pays for importing httpx and aiohttp; :mod:`._transport` is loaded on the first ``get``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import httpx


class Clients:
    """One async client per TLS-verification choice, made on first use.

    Redirects are never followed: a webhook that redirects elsewhere would carry the
    payload (and its auth headers) to a host nobody configured.
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        concurrency: int = 32,
        reroute: Mapping[str, str] | None = None,
        pool: Literal["aiohttp", "httpx"] = "aiohttp",
    ) -> None:
        #: aiohttp's pool (many messages) or httpx's own (one message: cheaper to import)
        self.pool: Literal["aiohttp", "httpx"] = pool
        self._transport = transport
        self._concurrency = concurrency
        self._reroute = dict(reroute or {})
        self._clients: dict[bool, httpx.AsyncClient] = {}

    def get(self, verify: bool = True) -> httpx.AsyncClient:
        client = self._clients.get(verify)
        if client is None:
            from ._transport import make_client

            client = self._clients[verify] = make_client(
                verify=verify,
                concurrency=self._concurrency,
                transport=self._transport,
                reroute_map=self._reroute,
                pool=self.pool,
            )
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
