"""The ``NOTIFY_REROUTE`` test seam: parsed here, applied by the transports.

``https://hooks.slack.com=http://127.0.0.1:8080,…`` maps origins to origins, so
end-to-end tests point real, fully validated provider URLs at a local server without
weakening validation. Parsed when a notifier is made, so a malformed value fails
before anything is stored; applied to each request's URL as it leaves. This module
imports no HTTP library.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from .._errors import ConfigError

REROUTE_ENV = "NOTIFY_REROUTE"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> str:
    """``scheme://host[:port]`` with the default port left out (so ``:443`` matches none)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    shown = f":{port}" if port and port != _DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{(parts.hostname or '').lower()}{shown}"


def parse_reroute(value: str | None) -> dict[str, str]:
    """The origin → origin map of a ``NOTIFY_REROUTE`` value."""
    mapping: dict[str, str] = {}
    for item in (value or "").replace(" ", ",").split(","):
        if not item.strip():
            continue
        source, sep, replacement = item.partition("=")
        if not sep or "://" not in source or "://" not in replacement:
            raise ConfigError(f"{REROUTE_ENV}: expected ORIGIN=ORIGIN, got {item!r}")
        mapping[origin(source)] = replacement.strip()
    return mapping


def reroute(url: str, mapping: Mapping[str, str]) -> str:
    """``url`` sent to its origin's replacement, path and query untouched (byte for byte)."""
    replacement = mapping.get(origin(url)) if mapping else None
    if replacement is None:
        return url
    parts = urlsplit(url)
    new = urlsplit(replacement)
    return urlunsplit((new.scheme, new.netloc, parts.path, parts.query, parts.fragment))
