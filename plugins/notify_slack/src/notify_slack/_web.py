"""The Web API exchange in bot mode: the calls of one attempt, and what Slack's answers mean.

The Web API answers almost everything with HTTP 200 and a JSON body: ``{"ok": true,
"channel": "C…", "ts": "…"}`` or ``{"ok": false, "error": "channel_not_found"}``, so the
status alone says little. What the errors mean here:

* a token that no longer works (``invalid_auth``, ``token_revoked``, ``account_inactive``,
  ``not_authed``, ``token_expired``): failed, and counted toward disabling the channel
  (``Outcome.disables``): no later message can succeed until someone fixes the token;
* ``ratelimited`` or HTTP 429: retried after ``Retry-After``;
* ``fatal_error``, ``internal_error``, ``service_unavailable``, ``request_timeout``,
  and HTTP 5xx: transient, retried with backoff;
* anything else (``channel_not_found``, ``not_in_channel``, ``is_archived``,
  ``invalid_blocks``, ``missing_scope`` …): failed, with Slack's error as the reason.

One attempt makes the calls the payload lists (see :func:`notify_slack._bot.payload`),
in order, each with the token in the ``Authorization`` header only. A ``chat.update``
comes before the reply it goes with, so a retry after a failed reply repeats the update
(harmless: same content) rather than posting the reply twice.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from notify_core.plugin import (
    Channel,
    Outcome,
    Payload,
    SendContext,
    generic_outcome,
    http_send,
    read_json,
)

from ._bot import API, CONTENT_TYPE, POST, UPDATE, Bot

if TYPE_CHECKING:  # httpx is loaded by the core only when something is sent
    import httpx

#: The token is gone: nothing will succeed until it is replaced.
TOKEN_GONE = frozenset(
    {"invalid_auth", "token_revoked", "account_inactive", "not_authed", "token_expired"}
)
#: Slack's own words for "try again later".
TRANSIENT = frozenset(
    {
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
        "org_login_required",
    }
)
THROTTLED = frozenset({"ratelimited", "rate_limited"})
#: ``chat.update`` refusals that mean the message can no longer be updated.
CANNOT_UPDATE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
_CODE = re.compile(r"[a-z][a-z0-9_]{1,63}")


def classify(response: httpx.Response) -> Outcome:
    """The outcome of one Web API answer (``meta`` is filled in by :func:`send`)."""
    outcome = generic_outcome(response)
    data = read_json(response)
    error = data.get("error")
    code = error if isinstance(error, str) and _CODE.fullmatch(error) else ""
    common: dict[str, Any] = {
        "http_status": outcome.http_status,
        "response_excerpt": outcome.response_excerpt,
    }
    if response.status_code == 429 or code in THROTTLED:
        retry_after = outcome.retry_after
        if retry_after is None:
            retry_after = _seconds(response.headers.get("retry-after"))
        return Outcome.retry(code or "ratelimited", retry_after=retry_after, **common)
    if outcome.status == "retry":
        return attrs.evolve(outcome, reason=code or outcome.reason)
    if outcome.status == "failed":
        return attrs.evolve(outcome, reason=code or outcome.reason, disables=code in TOKEN_GONE)
    ok = data.get("ok")
    if ok is True:
        return Outcome.delivered("ok", **common)
    if ok is False:
        if code in TRANSIENT:
            return Outcome.retry(code, **common)
        return Outcome.failed(code or "error", disables=code in TOKEN_GONE, **common)
    # Only Slack answers for slack.com over verified TLS, and a 200 means it took the
    # message: retrying would post it twice. Without a ts it cannot start a thread.
    shown = " ".join(response.text.split())[:80] or "(empty)"
    return Outcome.delivered(f"ok (unexpected body: {shown})", **common)


def calls(body: Any, bot: Bot) -> list[dict[str, Any]] | None:
    """The calls a payload asks for; a raw override (``Message.overrides``) is one post."""
    if isinstance(body, Mapping) and isinstance(body.get("calls"), list):
        listed = [c for c in body["calls"] if isinstance(c, Mapping)]
        return [dict(c) for c in listed if isinstance(c.get("args"), Mapping)]
    if isinstance(body, Mapping):
        return [{"method": POST, "args": {"channel": bot.channel, **body}}]
    return None


async def send(
    channel: Channel, payload: Payload, context: SendContext, client: httpx.AsyncClient
) -> Outcome:
    """One attempt: the payload's calls in order; the outcome of the last one that counts."""
    bot: Bot = context.target.state
    todo = calls(payload.body, bot)
    if not todo:
        return Outcome.failed("slack bot mode sends a JSON object (chat.postMessage arguments)")
    headers = {"Authorization": f"Bearer {bot.token}"}
    ends = isinstance(payload.body, Mapping) and payload.body.get("end_thread") is True
    updated: str | None = None
    note = ""
    for index, call in enumerate(todo):
        method = str(call.get("method") or POST)
        if call.get("fallback") and updated is not None:
            continue
        args = call["args"]
        request = Payload(body=args, url=API + method, content_type=CONTENT_TYPE)
        response = await http_send(channel, request, context, client, headers=headers)
        outcome = classify(response)
        answer = read_json(response)
        if method == UPDATE:
            later = index + 1 < len(todo)
            if outcome.status == "delivered":
                updated = str(args.get("ts") or "")
                continue
            if outcome.status == "failed" and outcome.reason in CANNOT_UPDATE and later:
                note = f"the first message could not be updated: {outcome.reason}"
                continue
            return outcome
        return _posted(outcome, args, answer, bot, ends=ends, updated=updated, note=note)
    # only an update was asked for, and it was made
    meta = {"channel": bot.channel, "updated": updated}
    return Outcome.delivered("ok (updated the first message)", meta=meta, end_thread=ends)


def _posted(
    outcome: Outcome,
    args: Mapping[str, Any],
    answer: Mapping[str, Any],
    bot: Bot,
    *,
    ends: bool,
    updated: str | None,
    note: str,
) -> Outcome:
    """A ``chat.postMessage`` outcome with what to keep: its ts, and the thread's if first."""
    if outcome.status != "delivered":
        return attrs.evolve(outcome, reason=f"{outcome.reason} ({note})") if note else outcome
    ts, where = answer.get("ts"), answer.get("channel")
    meta: dict[str, Any] = {}
    if isinstance(ts, str):
        meta = {"channel": where if isinstance(where, str) else args.get("channel"), "ts": ts}
    if isinstance(args.get("thread_ts"), str):
        meta["thread_ts"] = args["thread_ts"]
    if updated:
        meta["updated"] = updated
    reason = outcome.reason
    if updated:
        reason += " (replied and updated the first message)"
    elif note:
        reason += f" (replied instead: {note})"
    thread: dict[str, Any] | None = None
    if isinstance(ts, str) and "thread_ts" not in args:  # a new message: it starts the thread
        thread = {"channel": meta["channel"], "ts": ts}
        if bot.settings.on_resolve != "reply" and isinstance(args.get("blocks"), list):
            thread["blocks"] = args["blocks"]  # what chat.update shows again, resolved
    return attrs.evolve(outcome, reason=reason, meta=meta, thread=thread, end_thread=ends)


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
