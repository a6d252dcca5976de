"""What an HTTP answer means: delivered, retry, or failed, with a reason a human can use.

Every HTTP provider starts from :func:`generic_outcome`; most need nothing else but the
names of the body fields that carry the service's own words (``reason_fields``) and,
for services that say when to come back in the body, ``retry_after_field``. The helpers
survive any body: HTML error pages from proxies, binary, nothing at all.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .._provider import Outcome
from .._retry import parse_retry_after
from .._text import truncate

#: HTTP statuses worth another try: timeouts, "too early", rate limits, server errors.
TRANSIENT_STATUSES = frozenset({408, 425, 429})
#: "Too Many Requests": the one status that means "slow down", not "something broke".
THROTTLED_STATUS = 429
#: Answers that say the destination itself is gone or refuses us for good.
GONE_STATUSES = frozenset({401, 403, 404, 410})
#: How much of an answer an attempt keeps, and how long a reason may grow.
EXCERPT_BYTES = 2048
REASON_CHARS = 300

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SCRIPT = re.compile(r"<(script|style)[^>]*>.*?</\1>", re.IGNORECASE | re.DOTALL)


class Answer(Protocol):
    """What the core reads of an HTTP answer: an ``httpx.Response`` has all of it.

    The core's own sends (a provider without a ``classify_response`` of its own) read
    aiohttp's answer through a lighter object of this shape (``_transport.RawAnswer``):
    building an ``httpx.Response`` cost ~35 µs a delivery, a tenth of the pipeline's.
    """

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def reason_phrase(self) -> str: ...


def excerpt(response: Answer, limit: int = EXCERPT_BYTES) -> str:
    """The start of a response body as text, whatever it holds (HTML, binary, nothing)."""
    return response.content[:limit].decode("utf-8", errors="replace")


def one_line(text: str, limit: int = REASON_CHARS) -> str:
    """``text`` with its whitespace collapsed, cut to ``limit`` with the core's marker."""
    return truncate(" ".join(text.split()), limit)


def summary(body: str, limit: int = 200) -> str:
    """What a body says, in one line: an HTML page's title (or its text), else the text."""
    head = body.lstrip()[:15].lower()
    if head.startswith(("<!doctype html", "<html", "<head", "<body")):
        title = _TITLE.search(body)
        text = title.group(1) if title else _TAG.sub(" ", _SCRIPT.sub(" ", body))
        import html  # an HTML error page is rare; a send that queues never reads one

        return one_line(html.unescape(text), limit)
    return one_line(body, limit)


def http_reason(status: int, detail: str = "") -> str:
    """``HTTP 502: Bad Gateway`` — the one shape of an HTTP failure's reason."""
    detail = one_line(detail)
    return truncate(f"HTTP {status}: {detail}", REASON_CHARS) if detail else f"HTTP {status}"


def read_json(content: bytes | str | Answer) -> dict[str, Any]:
    """The JSON object in a body, or ``{}`` when it is not one (HTML, garbage, a list)."""
    if not isinstance(content, bytes | str):
        content = content.content
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def json_field(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` (``error.message``), or None when any step is missing."""
    value: Any = data
    for step in path.split("."):
        if not isinstance(value, Mapping) or step not in value:
            return None
        value = value[step]
    return value


def _words(value: Any) -> str:
    """A body field as reason text: strings and numbers as they are, lists joined."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value).strip()
    if isinstance(value, list):
        return "; ".join(w for w in map(_words, value) if w)
    return ""


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def generic_outcome(
    response: Answer,
    *,
    reason_fields: Sequence[str] = (),
    retry_after_field: str | None = None,
) -> Outcome:
    """The meaning of an HTTP answer, for a service with no conventions of its own.

    2xx is delivered; 408, 425, 429 and 5xx are retried, honouring ``Retry-After``
    (seconds or an HTTP date), and a 429 is marked ``throttled`` (it costs no retry
    budget); a redirect is never followed (it would carry the payload
    to a host nobody configured); anything else fails, and 401/403/404/410 count toward
    auto-disabling the channel. ``reason_fields`` are dotted paths into a JSON body
    (``("error.code", "error.message")``) whose values, joined, become the reason of a
    failure; ``retry_after_field`` is a body field with seconds to wait (Discord's
    ``retry_after``), which wins over the header because it is more precise.
    """
    status = response.status_code
    body = excerpt(response)
    common: dict[str, Any] = {"http_status": status, "response_excerpt": body}
    if 200 <= status < 300:
        return Outcome.delivered(f"HTTP {status}", **common)
    data = read_json(response) if reason_fields or retry_after_field else {}
    detail = ": ".join(w for w in (_words(json_field(data, f)) for f in reason_fields) if w)
    detail = detail or summary(body) or response.reason_phrase
    if status in TRANSIENT_STATUSES or status >= 500:
        retry_after = _seconds(json_field(data, retry_after_field)) if retry_after_field else None
        if retry_after is None:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
        return Outcome.retry(
            http_reason(status, detail),
            retry_after=retry_after,
            throttled=status == THROTTLED_STATUS,
            **common,
        )
    if 300 <= status < 400:
        where = one_line(response.headers.get("location", "?"), 200)
        return Outcome.failed(f"HTTP {status}: redirect to {where} not followed", **common)
    return Outcome.failed(http_reason(status, detail), disables=status in GONE_STATUSES, **common)


def exception_outcome(exc: BaseException, timeout: float) -> Outcome:
    """Transport failures are transient by nature: the next attempt may well succeed."""
    import asyncio  # loaded by now: an attempt just ran

    import httpx

    # two classes on Python 3.10 (asyncio's is what wait_for and aiohttp raise), one on 3.11
    timeouts = (TimeoutError, asyncio.TimeoutError)

    cause = exc.__cause__
    # httpx-aiohttp maps every aiohttp connection error to ConnectTimeout: only call it a
    # timeout when the underlying error really was one.
    real_timeout = cause is None or isinstance(cause, timeouts) or "Timeout" in type(cause).__name__
    if isinstance(exc, timeouts) or (isinstance(exc, httpx.TimeoutException) and real_timeout):
        return Outcome.retry(f"timed out after {timeout:g}s ({type(exc).__name__})")
    detail = _refused(exc) or str(exc) or str(cause or "") or type(cause or exc).__name__
    return Outcome.retry(f"connection error: {one_line(detail, 200)}")


def _refused(exc: BaseException) -> str | None:
    """httpcore's "All connection attempts failed", in the words aiohttp's path uses.

    The operating system's reason (``Connection refused``) is at the end of the chain
    of causes, and the address is the request's.
    """
    import httpx

    if not isinstance(exc, httpx.ConnectError):
        return None
    inner: BaseException | None = exc
    seen = 0
    while inner is not None and seen < 10:
        if isinstance(inner, OSError) and inner.errno:
            try:
                url = exc.request.url
            except RuntimeError:  # an error raised without its request
                return None
            port = url.port or (443 if url.scheme == "https" else 80)
            return f"cannot connect to {url.host}:{port}: {os.strerror(inner.errno)}"
        inner = inner.__cause__ or inner.__context__
        seen += 1
    return None
