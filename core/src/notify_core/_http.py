"""The core's HTTP exchange: the last-resort ``send`` and the generic answer reading.

Registered as a plugin with ``trylast`` so any provider plugin can take over either
hook. Errors from the client become retries here, once, for every provider.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ._channel import Channel
from ._provider import Outcome, Payload, SendContext
from ._retry import parse_retry_after
from .hookspecs import hookimpl

if TYPE_CHECKING:  # httpx is imported only when something is sent: a queue-only run skips it
    import httpx

#: HTTP statuses worth another try: timeouts, "too early", rate limits, server errors.
TRANSIENT_STATUSES = frozenset({408, 425, 429})
#: Answers that say the destination itself is gone or refuses us for good.
GONE_STATUSES = frozenset({401, 403, 404, 410})
EXCERPT_BYTES = 2048
IDEMPOTENCY_HEADER = "Idempotency-Key"


def excerpt(response: httpx.Response, limit: int = EXCERPT_BYTES) -> str:
    """The start of a response body as text, whatever it holds (HTML, binary, nothing)."""
    raw = response.content[:limit]
    return raw.decode("utf-8", errors="replace")


def first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def generic_outcome(response: httpx.Response) -> Outcome:
    """The meaning of an HTTP answer for a service with no special conventions."""
    status = response.status_code
    body = excerpt(response)
    common = {"http_status": status, "response_excerpt": body}
    reason = first_line(body) or response.reason_phrase or f"HTTP {status}"
    if 200 <= status < 300:
        return Outcome.delivered(f"HTTP {status}", **common)
    if status in TRANSIENT_STATUSES or status >= 500:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return Outcome.retry(f"HTTP {status}: {reason}", retry_after=retry_after, **common)
    if 300 <= status < 400:
        where = response.headers.get("location", "?")
        return Outcome.failed(
            f"HTTP {status}: redirect to {first_line(where)} not followed", **common
        )
    return Outcome.failed(f"HTTP {status}: {reason}", disables=status in GONE_STATUSES, **common)


def exception_outcome(exc: BaseException, timeout: float) -> Outcome:
    """Transport failures are transient by nature: the next attempt may well succeed."""
    import httpx

    cause = exc.__cause__
    # httpx-aiohttp maps every aiohttp connection error to ConnectTimeout: only call it a
    # timeout when the underlying error really was one.
    real_timeout = (
        cause is None or isinstance(cause, TimeoutError) or "Timeout" in type(cause).__name__
    )
    if isinstance(exc, TimeoutError) or (isinstance(exc, httpx.TimeoutException) and real_timeout):
        return Outcome.retry(f"timed out after {timeout:g}s ({type(exc).__name__})")
    detail = str(exc) or str(cause or "") or type(cause or exc).__name__
    return Outcome.retry(f"connection error: {first_line(detail)}")


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
    all_headers = {"Content-Type": payload.content_type, IDEMPOTENCY_HEADER: context.delivery_id}
    all_headers.update(payload.headers)
    if headers:
        all_headers.update(headers)
    from ._transport import direct_sender

    direct = direct_sender(client)
    request = direct.request if direct is not None else client.request
    return await request(
        payload.method,
        payload.url or context.target.url,
        content=payload.content(),
        headers=all_headers,
        timeout=context.timeout,
    )


class CorePlugin:
    """The built-in implementations every provider falls back to."""

    def __init__(self, classify: Callable[[Channel, httpx.Response], Outcome]) -> None:
        self._classify = classify

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
        response = await http_send(channel, payload, context, client)
        return self._classify(channel, response)

    @hookimpl(trylast=True)
    def classify_response(self, channel: Channel, response: httpx.Response) -> Outcome:
        return generic_outcome(response)
