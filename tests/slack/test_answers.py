"""How notify-slack reads Slack's answers, through the core's send like the dispatcher."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import respx

import notify_slack
from notify_core import Channel, Message, Providers
from notify_core.plugin import Outcome, SendContext

URL = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXXXXXXXXXX"
TRIGGER = (
    "https://hooks.slack.com/triggers/T0123456789/3141592653589/c6e6c0d868b3054ca0f4611a5dbadaf0"
)


def exchange(response: httpx.Response, url: str = URL) -> tuple[Outcome, httpx.Request]:
    providers = Providers()
    providers.register(notify_slack, name="slack")
    channel = Channel(name="ml-slack", provider="slack", url=url)
    target = providers.validate(channel)
    payload = providers.build(channel, Message(title="hello"), "d-1")
    context = SendContext(delivery_id="d-1", attempt=1, timeout=5.0, target=target)

    async def go() -> Outcome:
        async with httpx.AsyncClient() as client:
            return await providers.send(channel, payload, context, client)

    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(url).mock(return_value=response)
        outcome = asyncio.run(go())
        request = route.calls.last.request
    return outcome, request


def test_ok_is_delivered_and_the_request_is_block_kit() -> None:
    outcome, request = exchange(httpx.Response(200, text="ok"))
    assert outcome.status == "delivered"
    assert outcome.reason == "ok"
    assert outcome.http_status == 200
    assert not outcome.disables
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == "d-1"
    body = json.loads(request.content)
    assert body["blocks"][0]["type"] == "header"


def test_unexpected_200_body_is_delivered_with_a_note() -> None:
    outcome, _ = exchange(httpx.Response(200, text="<html>\n<b>hi</b></html>"))
    assert outcome.status == "delivered"
    assert outcome.reason == "ok (unexpected body: <html> <b>hi</b></html>)"


@pytest.mark.parametrize(
    ("status", "error", "disables"),
    [
        (400, "invalid_payload", False),
        (400, "no_text", False),
        (403, "action_prohibited", False),
        (403, "posting_to_general_channel_denied", False),
        (403, "invalid_token", True),
        (404, "channel_not_found", True),
        (404, "no_service", True),
        (404, "no_team", True),
        (410, "channel_is_archived", True),
        (410, "team_disabled", True),
    ],
)
def test_permanent_failures_keep_slacks_reason(status: int, error: str, disables: bool) -> None:
    outcome, _ = exchange(httpx.Response(status, text=error))
    assert outcome.status == "failed"
    assert outcome.reason == error
    assert outcome.http_status == status
    assert outcome.disables is disables
    assert outcome.retry_after is None
    assert outcome.response_excerpt == error


def test_404_without_a_slack_code_still_disables() -> None:
    outcome, _ = exchange(httpx.Response(404, text="<html>Not Found</html>"))
    assert outcome.status == "failed"
    assert outcome.disables
    assert outcome.reason.startswith("HTTP 404")


def test_403_without_a_slack_code_does_not_disable() -> None:
    outcome, _ = exchange(httpx.Response(403, text="Forbidden by proxy"))
    assert outcome.status == "failed"
    assert not outcome.disables


def test_rate_limited_is_retried_after_retry_after() -> None:
    outcome, _ = exchange(httpx.Response(429, text="rate_limited", headers={"Retry-After": "7"}))
    assert outcome.status == "retry"
    assert outcome.retry_after == 7.0
    assert outcome.reason == "rate_limited"
    assert outcome.throttled  # costs no retry budget
    assert not outcome.disables


def test_ratelimited_with_a_200_is_a_throttled_retry_not_a_failure() -> None:
    answer = httpx.Response(
        200, json={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "3"}
    )
    outcome, _ = exchange(answer, TRIGGER)
    assert (outcome.status, outcome.reason, outcome.retry_after) == ("retry", "ratelimited", 3.0)
    assert outcome.throttled and not outcome.disables


def test_429_without_body_or_header_is_retried_on_backoff() -> None:
    outcome, _ = exchange(httpx.Response(429))
    assert outcome.status == "retry"
    assert outcome.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(status: int) -> None:
    outcome, _ = exchange(httpx.Response(status, text="rollup_error"))
    assert outcome.status == "retry"
    assert outcome.reason == "rollup_error"
    assert outcome.http_status == status
    assert not outcome.disables


def test_server_error_page_is_retried_with_generic_reason() -> None:
    outcome, _ = exchange(
        httpx.Response(503, text="<html>down</html>", headers={"Retry-After": "30"})
    )
    assert outcome.status == "retry"
    assert outcome.retry_after == 30.0
    assert outcome.reason.startswith("HTTP 503")


def test_trigger_answers_in_json() -> None:
    outcome, request = exchange(httpx.Response(200, json={"ok": True}), TRIGGER)
    assert outcome.status == "delivered"
    assert outcome.reason == "ok"
    body: dict[str, Any] = json.loads(request.content)
    assert body["title"] == "hello"
    assert "blocks" not in body

    outcome, _ = exchange(
        httpx.Response(200, json={"ok": False, "error": "invalid_workflow"}), TRIGGER
    )
    assert (outcome.status, outcome.reason) == ("failed", "invalid_workflow")

    outcome, _ = exchange(
        httpx.Response(400, json={"ok": False, "error": "invalid_payload"}), TRIGGER
    )
    assert (outcome.status, outcome.reason, outcome.disables) == (
        "failed",
        "invalid_payload",
        False,
    )
