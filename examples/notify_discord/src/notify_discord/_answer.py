"""What Discord's answers mean, on top of the core's generic reading.

Success is 204 with no body (200 with the created message when the URL has
``?wait=true``). Errors are JSON ``{"message": …, "code": …}``: 404 ``Unknown Webhook``
(code 10015) and 401 ``Invalid Webhook Token`` (50027) mean the webhook is gone, which
the core's reading already counts toward auto-disable. A 429 carries
``{"retry_after": <seconds, float>, "global": …}`` and a ``Retry-After`` header rounded
to whole seconds; the body's value is the precise one and wins.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import attrs

from notify_core.plugin import Outcome, generic_outcome, truncate

if TYPE_CHECKING:  # httpx is loaded by the core only when something is sent
    import httpx

REASON_CHARS = 300


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = float(value)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def classify(response: httpx.Response) -> Outcome:
    outcome = generic_outcome(response)
    data = _json(response)
    if outcome.status == "delivered":
        message_id = data.get("id")
        meta = {"message_id": message_id} if isinstance(message_id, str) else {}
        return attrs.evolve(outcome, reason="ok", meta=meta)
    text = data.get("message")
    code = data.get("code")
    if isinstance(text, str) and text.strip():
        detail = " ".join(text.split())
        if isinstance(code, int) and not isinstance(code, bool) and code:
            detail += f" (code {code})"
        if data.get("global") is True:
            detail += " (global rate limit)"
        outcome = attrs.evolve(
            outcome, reason=truncate(f"HTTP {response.status_code}: {detail}", REASON_CHARS)
        )
    if response.status_code == 429:
        precise = _seconds(data.get("retry_after"))
        if precise is not None:
            outcome = attrs.evolve(outcome, retry_after=precise)
    return outcome
