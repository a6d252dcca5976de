"""The HTTP layer: clients (:mod:`._clients`, :mod:`._transport`), the request every HTTP
provider makes (:mod:`._send`), what answers mean (:mod:`._answers`), and the
``NOTIFY_REROUTE`` test seam (:mod:`._reroute`).

Importing this package imports no HTTP library; httpx and aiohttp load on the first send.
"""

from __future__ import annotations

from ._answers import (
    EXCERPT_BYTES,
    GONE_STATUSES,
    REASON_CHARS,
    TRANSIENT_STATUSES,
    exception_outcome,
    excerpt,
    generic_outcome,
    http_reason,
    json_field,
    one_line,
    read_json,
    summary,
)
from ._clients import Clients
from ._reroute import REROUTE_ENV, origin, parse_reroute, reroute
from ._send import IDEMPOTENCY_HEADER, CorePlugin, http_send

__all__ = [
    "EXCERPT_BYTES",
    "GONE_STATUSES",
    "IDEMPOTENCY_HEADER",
    "REASON_CHARS",
    "REROUTE_ENV",
    "TRANSIENT_STATUSES",
    "Clients",
    "CorePlugin",
    "exception_outcome",
    "excerpt",
    "generic_outcome",
    "http_reason",
    "http_send",
    "json_field",
    "one_line",
    "origin",
    "parse_reroute",
    "read_json",
    "reroute",
    "summary",
]
