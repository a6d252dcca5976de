"""The core's HTTP exchange: the last-resort ``send`` hook and the request every provider makes.

Registered as a plugin with ``trylast`` so any provider plugin can take over either
hook. Errors from the client become retries in the dispatcher, once, for every provider.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .._channel import Channel
from .._provider import Outcome, Payload, SendContext
from ..hookspecs import hookimpl
from ._answers import generic_outcome

if TYPE_CHECKING:  # httpx is imported only when something is sent: a queue-only run skips it
    import httpx

IDEMPOTENCY_HEADER = "Idempotency-Key"


async def http_send(
    channel: Channel,
    payload: Payload,
    context: SendContext,
    client: httpx.AsyncClient,
    *,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Send ``payload`` as one HTTP request; the building block of every HTTP provider.

    Adds the delivery id as ``Idempotency-Key`` so receivers can drop duplicates.
    Plugins that implement :func:`~notify_core.hookspecs.send` for per-attempt headers
    (signatures) call this with the extra ``headers``.
    """
    from ._transport import direct_sender

    direct = direct_sender(client)
    request = direct.request if direct is not None else client.request
    return await request(
        payload.method,
        payload.url or context.target.url,
        content=payload.content(),
        headers=_headers(payload, context, headers),
        timeout=context.timeout,
    )


def _headers(
    payload: Payload, context: SendContext, extra: dict[str, str] | None = None
) -> dict[str, str]:
    all_headers = {"Content-Type": payload.content_type, IDEMPOTENCY_HEADER: context.delivery_id}
    all_headers.update(payload.headers)
    if extra:
        all_headers.update(extra)
    return all_headers


class CorePlugin:
    """The built-in implementations every provider falls back to."""

    def __init__(
        self,
        classify: Callable[[Channel, httpx.Response], Outcome],
        plain: Callable[[str], bool] = lambda provider: False,
    ) -> None:
        self._classify = classify
        #: whether a provider's answers are read by the core alone (no plugin
        #: ``classify_response``): those skip building an ``httpx.Response``
        self._plain = plain

    @hookimpl(trylast=True)
    def send(
        self,
        channel: Channel,
        payload: Payload,
        context: SendContext,
        client: httpx.AsyncClient,
    ) -> Awaitable[Outcome]:
        return self._send(channel, payload, context, client)

    async def _send(
        self,
        channel: Channel,
        payload: Payload,
        context: SendContext,
        client: httpx.AsyncClient,
    ) -> Outcome:
        if self._plain(channel.provider):
            from ._transport import direct_sender

            direct = direct_sender(client)
            if direct is not None:
                answer = await direct.exchange(
                    payload.method,
                    payload.url or context.target.url,
                    content=payload.content(),
                    headers=_headers(payload, context),
                    timeout=context.timeout,
                )
                return generic_outcome(answer)
        response = await http_send(channel, payload, context, client)
        return self._classify(channel, response)

    @hookimpl(trylast=True)
    def classify_response(self, channel: Channel, response: httpx.Response) -> Outcome:
        return generic_outcome(response)
