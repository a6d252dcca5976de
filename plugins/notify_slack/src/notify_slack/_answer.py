"""What Slack's answers mean: built on the core's generic reading, with Slack's words.

Incoming webhooks answer ``200 ok`` or an HTTP error whose body is one plain string
(``channel_not_found``); workflow triggers answer JSON ``{"ok": …, "error": …}``. The
status class (retry for 429/5xx honouring ``Retry-After``, failure otherwise) is the
core's :func:`~notify_core.generic_outcome`; this module replaces its reason with
Slack's error code and decides which failures mean the webhook is gone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import attrs

from notify_core.plugin import Outcome, generic_outcome, parse_retry_after, read_json

if TYPE_CHECKING:  # httpx is loaded by the core only when something is sent
    import httpx

#: Errors that say the webhook, its channel or its workspace no longer exists: they
#: count toward auto-disabling the channel. Others (``invalid_payload``,
#: ``action_prohibited``, ``posting_to_general_channel_denied``) are about this
#: message or a policy an admin can change, so they fail the delivery only.
GONE = frozenset(
    {
        "channel_not_found",
        "channel_is_archived",
        "no_service",
        "no_team",
        "team_disabled",
        "invalid_token",
    }
)
#: Codes about the request, never about the destination, whatever status comes with them.
_NEVER_GONE = frozenset({"invalid_payload", "action_prohibited", "rate_limited"})
#: "Slow down", spelt both ways Slack spells it (webhooks, the Web API): whatever the
#: status (the Web API may say it with a 200), a throttled retry that costs no budget.
THROTTLED = frozenset({"rate_limited", "ratelimited"})
_CODE = re.compile(r"[a-z][a-z0-9_]{1,63}")


def classify(response: httpx.Response) -> Outcome:
    """The outcome of one Slack answer.

    A 200 whose body is not ``ok`` (nor a trigger's ``{"ok": true}``) is still counted
    as delivered, with the body noted in the reason: with TLS verified nobody but Slack
    can answer for ``hooks.slack.com``, and Slack only says 200 once it has accepted the
    message; retrying would post it twice and failing would be a false alarm.
    """
    outcome = generic_outcome(response)
    text = response.text.strip()
    data = read_json(text)  # a trigger's {"ok": …, "error": …}; {} for plain strings
    ok = data.get("ok")
    error = data.get("error")
    code = text if _CODE.fullmatch(text) else ""
    code = code or (error if isinstance(error, str) and _CODE.fullmatch(error) else "")
    if code in THROTTLED:
        return Outcome.retry(
            code,
            http_status=outcome.http_status,
            response_excerpt=outcome.response_excerpt,
            retry_after=outcome.retry_after
            or parse_retry_after(response.headers.get("retry-after")),
            throttled=True,
        )
    if outcome.status == "delivered":
        if code == "ok" or ok is True:
            return attrs.evolve(outcome, reason="ok")
        if ok is False:  # a trigger refusing with 200: its error, permanently
            return attrs.evolve(
                outcome, status="failed", reason=code or "error", disables=code in GONE
            )
        shown = " ".join(text.split())[:80] or "(empty)"
        return attrs.evolve(outcome, reason=f"ok (unexpected body: {shown})")
    if code:
        gone = code in GONE or (code not in _NEVER_GONE and response.status_code in (404, 410))
        return attrs.evolve(outcome, reason=code, disables=gone and outcome.status == "failed")
    if outcome.status == "failed":
        # No Slack code (an HTML error page): a 404/410 still means no hook lives there.
        return attrs.evolve(outcome, disables=response.status_code in (404, 410))
    return outcome
