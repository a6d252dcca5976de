"""A notifier that knows only the plugin under test and can reach only 127.0.0.1."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from .._channel import Channel
from .._errors import NotifyError
from .._models import Message
from .._notifier import Notifier
from .._plugins import Providers

#: A message used to learn where a channel's payloads go (``Payload.url``).
_PROBE = Message(title="probe", body="probe")


def providers_for(plugin: object, *, name: str | None = None) -> Providers:
    """A registry with the core's built-ins and ``plugin`` alone (no entry points read).

    It does not mend the plugin's mistakes (``forgiving=False``): an exception in
    ``classify_response``, or a 429 read as permanent, shows up in the plugin's tests.
    """
    providers = Providers(forgiving=False)
    providers.register(plugin, name=name)
    return providers


def origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, as ``NOTIFY_REROUTE`` and ``reroute=`` key it."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"


def origins_of(providers: Providers, channels: Iterable[Channel]) -> list[str]:
    """Every origin the channels' requests go to: their targets and their payloads' URLs."""
    found: dict[str, None] = {}
    for channel in channels:
        target = providers.validate(channel)
        urls = [target.url]
        try:
            payload = providers.build(channel, _PROBE, "probe", target)
        except NotifyError:
            payload = None
        if payload is not None and payload.url:
            urls.append(payload.url)
        for url in urls:
            if url.startswith(("http://", "https://")):
                found[origin(url)] = None
    return list(found)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoopbackOnlyTransport(httpx.AsyncBaseTransport):
    """Refuses every request whose host is not a loopback address.

    The kit's notifiers send through it, under the reroute: a plugin that posts somewhere
    the channel did not say (a hard-coded host) fails its test instead of reaching the
    internet. The refusal is a connection error, so the core records it as a retry.
    """

    def __init__(self) -> None:
        self._inner: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if not _is_loopback(host):
            raise httpx.ConnectError(
                f"notify_core.testing refused a request to {host}: tests reach 127.0.0.1 only "
                "(is this host missing from reroute=?)",
                request=request,
            )
        if self._inner is None:  # one per client: the notifier closes it after each send
            self._inner = httpx.AsyncHTTPTransport()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()


def local_notifier(
    plugin: object,
    channels: Iterable[Channel],
    *,
    server_url: str,
    db: str | os.PathLike[str],
    name: str | None = None,
    reroute: Mapping[str, str] | None = None,
    wait: float = 10.0,
    env: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> Notifier:
    """A :class:`~notify_core.Notifier` for ``channels`` with only ``plugin`` registered.

    Every origin the channels send to is rerouted to ``server_url`` (the recorder);
    anything else is refused. ``env`` defaults to an empty mapping, so a developer's
    ``NOTIFY_*`` variables (kill switches) do not change the result.
    """
    channels = list(channels)
    providers = providers_for(plugin, name=name)
    routes = dict.fromkeys(origins_of(providers, channels), server_url)
    routes.update(reroute or {})
    return Notifier(
        channels,
        providers=providers,
        db=db,
        reroute=routes,
        transport=LoopbackOnlyTransport(),
        wait=wait,
        env={} if env is None else env,
        **kwargs,
    )
