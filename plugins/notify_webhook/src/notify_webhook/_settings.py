"""A webhook channel's ``settings``: read once, when the channel is validated.

What they say is kept in :class:`WebhookSettings` (``Target.state``), ready to send:
the method, every header (the configured ones and the auth header), the signing key,
the template. Every header value and credential is a secret for the masker.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from notify_core.plugin import SettingsReader, TemplateError, placeholders

NAME = "webhook"
KNOWN = ("method", "headers", "auth", "secret", "template")
METHODS = ("POST", "PUT", "PATCH")
SECRET_PREFIX = "whsec_"
#: What each auth type needs; of those, ``token``, ``password`` and ``value`` are secret.
AUTH_NEEDS = {"bearer": ("token",), "basic": ("username", "password"), "header": ("name", "value")}


@dataclass(frozen=True)
class WebhookSettings:
    """What a webhook channel's settings mean for every request it sends."""

    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    signing_key: bytes | None = field(default=None, repr=False)
    template: Any = None
    secrets: tuple[str, ...] = field(default=(), repr=False)


def read(settings: Mapping[str, Any]) -> WebhookSettings:
    """The channel's settings, or an ``InvalidTarget`` naming the key at fault."""
    read = SettingsReader(NAME, settings, KNOWN)
    method = (read.text("method") or "POST").upper()
    if method not in METHODS:
        raise read.error("method", f"must be one of {', '.join(METHODS)}, not {method!r}")
    headers: dict[str, str] = {}
    for name, value in read.table("headers").items():
        if isinstance(value, Mapping | list):
            raise read.error(f"headers.{name}", "must be a string")
        headers[str(name)] = str(value)
    credentials = _auth(read, headers)
    secret = read.text("secret")
    key = _signing_key(read, secret) if secret is not None else None
    template = read.get("template")
    _check_template(read, template)
    secrets = (*headers.values(), *credentials, *([secret] if secret else []))
    return WebhookSettings(
        method=method, headers=headers, signing_key=key, template=template, secrets=secrets
    )


def _auth(read: SettingsReader, headers: dict[str, str]) -> list[str]:
    """Add the auth header to ``headers``; return the credentials it holds."""
    auth = read.table("auth")
    if not auth:
        return []
    kind = auth.get("type")
    if kind not in AUTH_NEEDS:
        raise read.error("auth.type", "must be bearer, basic or header")
    for key in AUTH_NEEDS[kind]:
        if not isinstance(auth.get(key), str) or not auth[key]:
            raise read.error(f"auth.{key}", f"is required for {kind} auth")
    if kind == "bearer":
        headers["Authorization"] = f"Bearer {auth['token']}"
    elif kind == "basic":
        raw = f"{auth['username']}:{auth['password']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    else:
        headers[auth["name"]] = auth["value"]
    return [auth[k] for k in ("token", "password", "value") if k in auth]


def _signing_key(read: SettingsReader, secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise read.error(
            "secret", "must start with 'whsec_' (Standard Webhooks format: whsec_ + base64 key)"
        )
    try:
        return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise read.error("secret", "is not base64 after 'whsec_'") from None


def _check_template(read: SettingsReader, template: Any) -> None:
    if isinstance(template, str):
        try:
            placeholders(template)
        except TemplateError as exc:
            raise read.error("template", f"is invalid: {exc}") from None
    elif isinstance(template, Mapping):
        for value in template.values():
            _check_template(read, value)
    elif isinstance(template, list):
        for value in template:
            _check_template(read, value)
