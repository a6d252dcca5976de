"""notify-pagerduty answers: every class of PagerDuty reply, through the core's send path."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from notify_core import Channel, Message, Providers
from notify_core.plugin import Outcome, SendContext
from notify_pagerduty import CHANGE_URLS, ENQUEUE_URLS, RATE_LIMITED_PAUSE

ROUTING_KEY = "R0utingKeyF0rTests0nly1234567abc"
INVALID = {
    "status": "invalid event",
    "message": "Event object is invalid",
    "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"],
}


def channel(**settings: Any) -> Channel:
    return Channel(
        name="oncall",
        provider="pagerduty",
        options={"routing_key": ROUTING_KEY},
        settings=settings,
    )


async def send(
    providers: Providers, reply: httpx.Response, ch: Channel | None = None, url: str = ""
) -> tuple[Outcome, httpx.Request]:
    ch = ch or channel()
    target = providers.validate(ch)
    payload = providers.build(ch, Message(title="Disk full", dedup_key="disk"), "dly_1")
    context = SendContext(delivery_id="dly_1", attempt=1, timeout=5, target=target)
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(url or ENQUEUE_URLS["us"]).mock(return_value=reply)
        async with httpx.AsyncClient() as client:
            outcome = await providers.send(ch, payload, context, client)
    return outcome, route.calls.last.request


@pytest.mark.anyio
async def test_202_is_delivered_and_keeps_pagerdutys_dedup_key(providers: Providers) -> None:
    reply = httpx.Response(
        202, json={"status": "success", "message": "Event processed", "dedup_key": "disk"}
    )
    outcome, request = await send(providers, reply)
    assert (outcome.status, outcome.http_status, outcome.reason) == (
        "delivered",
        202,
        "Event processed",
    )
    assert outcome.meta == {"dedup_key": "disk"}
    assert (outcome.retry_after, outcome.disables) == (None, False)
    body = json.loads(request.content)
    assert (body["routing_key"], body["dedup_key"]) == (ROUTING_KEY, "disk")
    assert request.headers["content-type"] == "application/json"


@pytest.mark.anyio
async def test_2xx_without_a_json_body_is_still_delivered(providers: Providers) -> None:
    outcome, _ = await send(providers, httpx.Response(202, content=b""))
    assert outcome.status == "delivered"
    assert outcome.meta == {}


@pytest.mark.anyio
async def test_400_fails_with_pagerdutys_errors_and_disables_for_a_key_error(
    providers: Providers,
) -> None:
    outcome, _ = await send(providers, httpx.Response(400, json=INVALID))
    assert outcome.status == "failed"
    assert outcome.http_status == 400
    assert outcome.reason == (
        "HTTP 400: Event object is invalid: "
        "Length of 'routing_key' is incorrect (should be 32 characters)"
    )
    assert outcome.disables  # every event to this key fails alike
    assert outcome.retry_after is None


@pytest.mark.anyio
async def test_400_about_the_event_fails_without_disabling(providers: Providers) -> None:
    reply = httpx.Response(
        400,
        json={
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": ["'payload.summary' is missing or blank", "'payload.source' is missing"],
        },
    )
    outcome, _ = await send(providers, reply)
    assert outcome.status == "failed"
    assert outcome.reason == (
        "HTTP 400: Event object is invalid: 'payload.summary' is missing or blank; "
        "'payload.source' is missing"
    )
    assert not outcome.disables


@pytest.mark.anyio
async def test_400_that_is_not_json_keeps_the_generic_reason(providers: Providers) -> None:
    outcome, _ = await send(providers, httpx.Response(400, text="<html>Bad Request</html>"))
    assert outcome.status == "failed"
    assert outcome.reason == "HTTP 400: Bad Request"  # the page's text, not its markup
    assert not outcome.disables


@pytest.mark.anyio
async def test_429_is_retried_after_retry_after(providers: Providers) -> None:
    reply = httpx.Response(429, headers={"Retry-After": "7"}, text="Too Many Requests")
    outcome, _ = await send(providers, reply)
    assert (outcome.status, outcome.retry_after, outcome.disables) == ("retry", 7.0, False)


@pytest.mark.anyio
async def test_429_without_retry_after_waits_pagerdutys_suggested_pause(
    providers: Providers,
) -> None:
    reply = httpx.Response(
        429,
        json={
            "status": "throttle event",
            "message": "Requests for this service are arriving too quickly.  Please retry later.",
        },
    )
    outcome, _ = await send(providers, reply)
    assert outcome.status == "retry"
    assert outcome.retry_after == RATE_LIMITED_PAUSE == 30.0
    assert outcome.reason.startswith("HTTP 429: Requests for this service are arriving too quickly")


@pytest.mark.anyio
@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_is_retried_with_backoff(providers: Providers, status: int) -> None:
    reply = httpx.Response(status, json={"status": "error", "message": "Internal Server Error"})
    outcome, _ = await send(providers, reply)
    assert outcome.status == "retry"
    assert outcome.retry_after is None  # the policy's backoff applies
    assert outcome.reason == f"HTTP {status}: Internal Server Error"
    assert not outcome.disables


@pytest.mark.anyio
async def test_5xx_with_retry_after_is_honoured(providers: Providers) -> None:
    outcome, _ = await send(providers, httpx.Response(503, headers={"Retry-After": "12"}))
    assert (outcome.status, outcome.retry_after) == ("retry", 12.0)


@pytest.mark.anyio
@pytest.mark.parametrize("status", [401, 403, 404])
async def test_gone_or_forbidden_fails_and_disables(providers: Providers, status: int) -> None:
    outcome, _ = await send(providers, httpx.Response(status, text="Not Found"))
    assert outcome.status == "failed"
    assert outcome.disables
    assert outcome.retry_after is None


@pytest.mark.anyio
async def test_change_events_are_posted_to_the_change_endpoint(providers: Providers) -> None:
    reply = httpx.Response(202, json={"status": "success", "message": "Change event processed"})
    ch = channel(change_event=True)
    outcome, request = await send(providers, reply, ch, url=CHANGE_URLS["us"])
    assert outcome.status == "delivered"
    assert outcome.meta == {}
    assert set(json.loads(request.content)) == {"routing_key", "payload"}


@pytest.mark.anyio
async def test_eu_channels_post_to_the_eu_endpoint(providers: Providers) -> None:
    ch = Channel(
        name="eu",
        provider="pagerduty",
        options={"routing_key": ROUTING_KEY, "region": "eu"},
    )
    outcome, request = await send(providers, httpx.Response(202), ch, url=ENQUEUE_URLS["eu"])
    assert outcome.status == "delivered"
    assert request.url.host == "events.eu.pagerduty.com"
