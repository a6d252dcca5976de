"""What Slack's answers mean: built on the core's generic reading, with Slack's words.

Incoming webhooks answer ``200 ok`` or an HTTP error whose body is one plain string
(``channel_not_found``); workflow triggers answer JSON ``{"ok": …, "error": …}``. The
status class (retry for 429/5xx honouring ``Retry-After``, failure otherwise) is the
core's :func:`~notify_core.generic_outcome`; this module replaces its reason with
Slack's error code and decides which failures mean the webhook is gone.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import attrs

from notify_core.plugin import Outcome, generic_outcome, parse_retry_after

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
    code = _error_code(text)
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
        if code == "ok" or _json_ok(text) is True:
            return attrs.evolve(outcome, reason="ok")
        if _json_ok(text) is False:  # a trigger refusing with 200: its error, permanently
            return Outcome.failed(
                code or "error",
                http_status=outcome.http_status,
                response_excerpt=outcome.response_excerpt,
                disables=code in GONE,
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


def _error_code(text: str) -> str:
    """Slack's error code from a plain-string body or a JSON ``error``; "" if none."""
    if _CODE.fullmatch(text):
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return ""
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, str) and _CODE.fullmatch(error):
            return error
    return ""


def _json_ok(text: str) -> bool | None:
    """A trigger's ``ok`` flag, or None when the body is not such JSON."""
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    ok = data.get("ok") if isinstance(data, dict) else None
    return ok if isinstance(ok, bool) else None
