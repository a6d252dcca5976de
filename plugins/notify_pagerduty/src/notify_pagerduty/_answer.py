"""PagerDuty's answers, read on top of the core's generic reading.

The core already says what an HTTP status means (2xx delivered, 429/5xx retry with
``Retry-After``, 401/403/404 failed for good). PagerDuty adds a JSON body: the
``dedup_key`` it filed the event under (kept with the delivery, so a later resolve
can be matched to it) and, on 400, an ``errors`` list that says what was wrong.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import attrs

from notify_core.plugin import Outcome, generic_outcome, truncate

if TYPE_CHECKING:  # httpx is loaded by the core only when something is sent
    import httpx

#: PagerDuty's advice for 429 ("retry … 30 seconds apart"); its limit looks back 60 s,
#: so retrying after a second or two would only burn attempts on more 429s.
RATE_LIMITED_PAUSE = 30.0
_REASON_LIMIT = 500


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _detail(answer: dict[str, Any]) -> str:
    """``message: error; error`` from an error body (its ``status`` if there is no message)."""
    message = answer.get("message") or answer.get("status")
    head = str(message).strip() if isinstance(message, str | int | float) else ""
    errors = answer.get("errors")
    items = [str(e).strip() for e in errors if str(e).strip()] if isinstance(errors, list) else []
    text = ": ".join(p for p in (head, "; ".join(items)) if p)
    return " ".join(text.split())


def _about_the_key(text: str) -> bool:
    lowered = text.lower()
    return "routing key" in lowered or "routing_key" in lowered


def classify(response: httpx.Response) -> Outcome:
    """The generic outcome, with PagerDuty's own words and its ``dedup_key``."""
    outcome = generic_outcome(response)
    answer = _answer(response)
    status = response.status_code
    if outcome.status == "delivered":
        key = answer.get("dedup_key")
        meta = {"dedup_key": key} if isinstance(key, str) and key else {}
        message = answer.get("message")
        reason = message if isinstance(message, str) and message else outcome.reason
        return attrs.evolve(outcome, reason=truncate(reason, _REASON_LIMIT), meta=meta)
    detail = _detail(answer)
    if detail:
        outcome = attrs.evolve(outcome, reason=truncate(f"HTTP {status}: {detail}", _REASON_LIMIT))
    if status == 429 and outcome.retry_after is None:
        outcome = attrs.evolve(outcome, retry_after=RATE_LIMITED_PAUSE)
    if status == 400 and _about_the_key(detail):
        # "Invalid routing key": the integration was deleted; every event will fail alike
        outcome = attrs.evolve(outcome, disables=True)
    return outcome
