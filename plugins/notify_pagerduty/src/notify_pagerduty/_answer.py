"""PagerDuty's answers, read on top of the core's generic reading.

The core already says what an HTTP status means (2xx delivered, 429/5xx retry with
``Retry-After``, 401/403/404 failed for good). PagerDuty adds a JSON body: the
``dedup_key`` it filed the event under (kept with the delivery, so a later resolve
can be matched to it) and, on 400, an ``errors`` list that says what was wrong, which
the core's reading takes for the reason (``reason_fields``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from notify_core.plugin import Outcome, generic_outcome, read_json, truncate

if TYPE_CHECKING:  # httpx is loaded by the core only when something is sent
    import httpx

#: PagerDuty's advice for 429 ("retry … 30 seconds apart"); its limit looks back 60 s,
#: so retrying after a second or two would only burn attempts on more 429s.
RATE_LIMITED_PAUSE = 30.0
#: Where an error body says what was wrong: ``message`` then the ``errors`` list.
REASON_FIELDS = ("message", "errors")


def classify(response: httpx.Response) -> Outcome:
    """The generic outcome, with PagerDuty's own words and its ``dedup_key``."""
    outcome = generic_outcome(response, reason_fields=REASON_FIELDS)
    if outcome.status == "delivered":
        answer = read_json(response)
        key, message = answer.get("dedup_key"), answer.get("message")
        meta = {"dedup_key": key} if isinstance(key, str) and key else {}
        reason = truncate(message, 200) if isinstance(message, str) and message else outcome.reason
        return attrs.evolve(outcome, reason=reason, meta=meta)
    if response.status_code == 429 and outcome.retry_after is None:
        outcome = attrs.evolve(outcome, retry_after=RATE_LIMITED_PAUSE)
    reason = outcome.reason.lower()
    if response.status_code == 400 and ("routing key" in reason or "routing_key" in reason):
        # "Invalid routing key": the integration was deleted; every event will fail alike
        outcome = attrs.evolve(outcome, disables=True)
    return outcome
