"""The generic webhook provider: POST/PUT/PATCH JSON to any HTTP endpoint.

Signing follows the Standard Webhooks specification, so receivers can verify with any
of its libraries. The signature covers a per-attempt timestamp, which is why this
plugin implements ``send`` (everything else is pure and done at build time). The
settings are read once, by ``validate_url`` (:mod:`._settings`); the envelope and
templates are in :mod:`._envelope`.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from notify_core.plugin import (
    Channel,
    InvalidTarget,
    Message,
    Outcome,
    Payload,
    PayloadError,
    ProviderSpec,
    Rate,
    SendContext,
    Target,
    TemplateError,
    generic_outcome,
    hookimpl,
    http_send,
)

from . import _settings
from ._envelope import envelope, fill, template_values
from ._settings import METHODS, NAME, SECRET_PREFIX, WebhookSettings

if TYPE_CHECKING:  # httpx is loaded by the core only when something is sent
    import httpx

__all__ = ["METHODS", "NAME", "SECRET_PREFIX", "SPEC", "WebhookSettings", "sign"]

SPEC = ProviderSpec(
    name=NAME,
    description="Any HTTP endpoint: JSON envelope or template, auth, Standard Webhooks signing",
    default_rate=Rate(per_second=10, burst=20),
    capabilities=frozenset({"fields", "actions"}),
)


@hookimpl
def register_providers() -> Sequence[ProviderSpec]:
    return [SPEC]


@hookimpl
def validate_url(channel: Channel) -> Target | None:
    """An http(s) URL and valid settings; header values and credentials are secret."""
    url = channel.url or ""
    try:
        parsed = urlsplit(url)
        parsed.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise InvalidTarget(
            "webhook url is not a valid URL; expected http(s)://host/path"
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidTarget(
            f"webhook url must look like https://host/path, got scheme "
            f"{parsed.scheme or '(none)'!r}"
        )
    settings = _settings.read(channel.settings)
    return Target(url=url, secrets=settings.secrets, state=settings)


@hookimpl
def build_payload(
    channel: Channel, message: Message, delivery_id: str, target: Target
) -> Payload | None:
    settings: WebhookSettings = target.state
    body: Any
    if settings.template is None:
        body = envelope(message, delivery_id, channel.tenant)
    else:
        try:
            body = fill(settings.template, template_values(message, delivery_id, channel.tenant))
        except TemplateError as exc:
            raise PayloadError(f"webhook template: {exc}") from None
    return Payload(body=body, method=settings.method, headers=dict(settings.headers))


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")) (Standard Webhooks)."""
    import hashlib  # a signing channel's first send: not for every process that loads it
    import hmac

    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@hookimpl
def send(
    channel: Channel, payload: Payload, context: SendContext, client: httpx.AsyncClient
) -> Awaitable[Outcome] | None:
    key = context.target.state.signing_key
    if key is None:
        return None  # unsigned: the core's HTTP send does it all
    return _send_signed(channel, payload, context, client, key)


async def _send_signed(
    channel: Channel,
    payload: Payload,
    context: SendContext,
    client: httpx.AsyncClient,
    key: bytes,
) -> Outcome:
    timestamp = int(time.time())  # per attempt: receivers refuse stale signatures
    signature = sign(key, context.delivery_id, timestamp, payload.content())
    response = await http_send(
        channel,
        payload,
        context,
        client,
        headers={
            "webhook-id": context.delivery_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature,
        },
    )
    return generic_outcome(response)
