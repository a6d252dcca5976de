"""What a server is started with: where it listens, who may call it, and its limits.

Tokens come from ``[serve] tokens`` in notify.toml (``${VAR}`` references resolved by the
core's reader) and from ``NOTIFY_SERVE_TOKENS`` (comma-separated). Without any, the
server only listens on loopback: an unauthenticated notification API on a network
address would let anyone page the on-call engineer.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

import attrs

from notify_core import ConfigError, Notifier

TOKENS_ENV = "NOTIFY_SERVE_TOKENS"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: Request bodies larger than this are refused with 413 (an Alertmanager group of a few
#: hundred alerts is well under it).
MAX_BODY = 1024 * 1024
#: Minimum length of a token, as the core's configuration reader demands of ``[serve]``.
MIN_TOKEN_LENGTH = 16


@attrs.frozen(kw_only=True)
class ServeOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    tokens: tuple[str, ...] = attrs.field(default=(), repr=False)
    worker: bool = True
    #: Seconds in-flight attempts get to finish on shutdown before they are released.
    grace: float = 10.0
    max_body: int = MAX_BODY
    #: How long ``POST /v1/channels/{name}/test`` waits for the provider's answer.
    test_wait: float = 10.0
    #: How long a dashboard login lasts.
    session_seconds: float = 12 * 3600
    #: How often the in-process worker looks for due deliveries when idle.
    poll: float = 0.2


def is_loopback(host: str) -> bool:
    """``127.0.0.0/8``, ``::1`` and ``localhost``; a name or a wildcard is not."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def env_tokens(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get(TOKENS_ENV, "")
    tokens = tuple(t.strip() for t in raw.split(",") if t.strip())
    for token in tokens:
        if len(token) < MIN_TOKEN_LENGTH:
            raise ConfigError(
                f"{TOKENS_ENV}: a token must be at least {MIN_TOKEN_LENGTH} characters"
                " (make one with: openssl rand -hex 32)"
            )
    return tokens


def resolve_options(
    notifier: Notifier,
    *,
    host: str | None = None,
    port: int | None = None,
    worker: bool = True,
    grace: float = 10.0,
    env: Mapping[str, str] | None = None,
) -> ServeOptions:
    """Flags, then ``[serve]``, then defaults; refuses an open bind without tokens."""
    env = os.environ if env is None else env
    serve = notifier.config.serve
    tokens = (*serve.tokens, *env_tokens(env))
    options = ServeOptions(
        host=host or serve.host or DEFAULT_HOST,
        port=port if port is not None else (serve.port if serve.port is not None else DEFAULT_PORT),
        tokens=tokens,
        worker=worker,
        grace=grace,
    )
    check_bind(options)
    return options


def check_bind(options: ServeOptions) -> None:
    if not options.tokens and not is_loopback(options.host):
        raise ConfigError(
            f"notify serve: refusing to listen on {options.host} without a token; set"
            f" [serve] tokens in notify.toml or {TOKENS_ENV}, or listen on 127.0.0.1"
        )
