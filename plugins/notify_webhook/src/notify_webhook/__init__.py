"""The generic webhook provider: POST/PUT/PATCH JSON to any HTTP endpoint.

Signing follows the Standard Webhooks specification, so receivers can verify with any
of its libraries. The signature covers a per-attempt timestamp, which is why this
plugin implements ``send`` (everything else is pure and done at build time).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Awaitable, Mapping, Sequence
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
    RetryPolicy,
    SendContext,
    Target,
    hookimpl,
    http_send,
    placeholders,
    render,
    url_secrets,
)
from notify_core.plugin import TemplateError as _TemplateError

from ._envelope import envelope, template_values

if TYPE_CHECKING:  # httpx is loaded by the core only when something is sent
    import httpx

NAME = "webhook"
METHODS = ("POST", "PUT", "PATCH")
SECRET_PREFIX = "whsec_"

SPEC = ProviderSpec(
    name=NAME,
    description="Any HTTP endpoint: JSON envelope or template, auth, Standard Webhooks signing",
    default_rate=Rate(per_second=10, burst=20),
    default_retry=RetryPolicy(attempts=5, backoff=1.0, max_delay=300),
    capabilities=frozenset({"fields", "actions"}),
)


@hookimpl
def register_providers() -> Sequence[ProviderSpec]:
    return [SPEC]


def _settings(channel: Channel) -> Mapping[str, Any]:
    return channel.settings


@hookimpl
def validate_url(channel: Channel) -> Target | None:
    url = channel.url or ""
    secrets = list(url_secrets(url))
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
    settings = _settings(channel)
    method = str(settings.get("method", "POST")).upper()
    if method not in METHODS:
        raise InvalidTarget(
            f"webhook method must be one of {', '.join(METHODS)}, not {method!r}",
            key="settings.method",
        )
    secrets += _auth_secrets(settings)
    secret = settings.get("secret")
    if secret is not None:
        _signing_key(str(secret))
        secrets.append(str(secret))
    headers = settings.get("headers", {})
    if not isinstance(headers, Mapping):
        raise InvalidTarget(
            "webhook settings.headers must be a table of strings", key="settings.headers"
        )
    secrets += [str(v) for v in headers.values()]
    template = settings.get("template")
    if template is not None:
        _check_template(template)
    return Target(url=url, secrets=tuple(secrets))


def _auth_secrets(settings: Mapping[str, Any]) -> list[str]:
    auth = settings.get("auth")
    if auth is None:
        return []
    if not isinstance(auth, Mapping):
        raise InvalidTarget(
            "webhook settings.auth must be a table with a type", key="settings.auth"
        )
    kind = auth.get("type")
    needed = {"bearer": ("token",), "basic": ("username", "password"), "header": ("name", "value")}
    if kind not in needed:
        raise InvalidTarget(
            "webhook settings.auth.type must be bearer, basic or header", key="settings.auth.type"
        )
    for key in needed[kind]:
        if not isinstance(auth.get(key), str) or not auth[key]:
            raise InvalidTarget(
                f"webhook settings.auth.{key} is required for {kind} auth",
                key=f"settings.auth.{key}",
            )
    return [str(auth[k]) for k in ("token", "password", "value") if k in auth]


def _auth_headers(settings: Mapping[str, Any]) -> dict[str, str]:
    auth = settings.get("auth")
    if not auth:
        return {}
    if auth["type"] == "bearer":
        return {"Authorization": f"Bearer {auth['token']}"}
    if auth["type"] == "basic":
        raw = f"{auth['username']}:{auth['password']}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    return {str(auth["name"]): str(auth["value"])}


def _signing_key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidTarget(
            "webhook settings.secret must start with 'whsec_' "
            "(Standard Webhooks format: whsec_ + base64 key)",
            key="settings.secret",
        )
    try:
        return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidTarget(
            "webhook settings.secret: the part after 'whsec_' is not base64",
            key="settings.secret",
        ) from None


def _check_template(template: Any) -> None:
    if isinstance(template, str):
        try:
            placeholders(template)
        except _TemplateError as exc:
            raise InvalidTarget(
                f"webhook settings.template: {exc}", key="settings.template"
            ) from None
    elif isinstance(template, Mapping):
        for value in template.values():
            _check_template(value)
    elif isinstance(template, list):
        for value in template:
            _check_template(value)


def _fill(template: Any, values: Mapping[str, Any]) -> Any:
    """Fill a JSON template; a string that is exactly ``{name}`` keeps the value's type."""
    if isinstance(template, str):
        names = placeholders(template)
        if len(names) == 1 and template == "{" + names[0] + "}":
            if names[0] not in values:
                render(template, values)  # raises the TemplateError that names the key
            return values[names[0]]
        return render(template, values)
    if isinstance(template, Mapping):
        return {str(k): _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    return template


@hookimpl
def build_payload(channel: Channel, message: Message, delivery_id: str) -> Payload | None:
    settings = _settings(channel)
    template = settings.get("template")
    if template is None:
        body: Any = envelope(message, delivery_id, channel.tenant)
    else:
        try:
            body = _fill(template, template_values(message, delivery_id, channel.tenant))
        except _TemplateError as exc:
            raise PayloadError(f"webhook template: {exc}") from None
    headers = {str(k): str(v) for k, v in settings.get("headers", {}).items()}
    headers.update(_auth_headers(settings))
    return Payload(body=body, method=str(settings.get("method", "POST")).upper(), headers=headers)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")) (Standard Webhooks)."""
    key = _signing_key(secret)
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@hookimpl
def send(
    channel: Channel, payload: Payload, context: SendContext, client: httpx.AsyncClient
) -> Awaitable[Outcome] | None:
    if "secret" not in channel.settings:
        return None  # unsigned: the core's HTTP send does it all
    return _send_signed(channel, payload, context, client)


async def _send_signed(
    channel: Channel, payload: Payload, context: SendContext, client: httpx.AsyncClient
) -> Outcome:
    from notify_core.plugin import generic_outcome

    timestamp = int(time.time())
    signature = sign(
        str(channel.settings["secret"]), context.delivery_id, timestamp, payload.content()
    )
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
