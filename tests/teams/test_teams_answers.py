"""notify-teams answers, through the core's send path exactly as the dispatcher calls it."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx

import notify_teams
from notify_core import Channel, Message, Providers
from notify_core.plugin import Outcome, SendContext

SIG = "SECRETSIGNATUREVALUE123456789"
URL = (
    "https://prod-00.westeurope.logic.azure.com:443/workflows/abc123/triggers/manual/paths/"
    f"invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIG}"
)
TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

pytestmark = pytest.mark.anyio


def logic_error(code: str, message: str) -> dict[str, Any]:
    return {"json": {"error": {"code": code, "message": message}}}


async def exchange(status: int, **answer: Any) -> tuple[Outcome, httpx.Request]:
    providers = Providers()
    providers.register(notify_teams, name="teams")
    channel = Channel(name="ml-teams", provider="teams", url=URL)
    target = providers.validate(channel)
    payload = providers.build(channel, Message(title="hello", timestamp=TS), "d-1")
    context = SendContext(delivery_id="d-1", attempt=1, timeout=5.0, target=target)
    async with httpx.AsyncClient() as client:
        with respx.mock(assert_all_called=True) as mock:
            route = mock.post(URL).respond(status, **answer)
            outcome = await providers.send(channel, payload, context, client)
    return outcome, route.calls.last.request


async def test_202_with_an_empty_body_is_delivered_and_the_request_is_the_card() -> None:
    outcome, request = await exchange(202, headers={"x-ms-workflow-run-id": "08584"})
    assert (outcome.status, outcome.http_status, outcome.reason) == ("delivered", 202, "HTTP 202")
    assert outcome.meta == {"workflow_run_id": "08584"}
    assert (outcome.retry_after, outcome.disables) == (None, False)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == "d-1"
    body = json.loads(request.content)
    assert body["attachments"][0]["content"]["body"][0]["text"] == "hello"


async def test_200_from_a_flow_with_a_response_action_is_delivered() -> None:
    outcome, _ = await exchange(200, text="ok")
    assert (outcome.status, outcome.meta) == ("delivered", {})


async def test_429_is_retried_after_retry_after() -> None:
    outcome, _ = await exchange(
        429,
        headers={"Retry-After": "17"},
        **logic_error("WorkflowRequestsThrottled", "Too many requests for this flow."),
    )
    assert (outcome.status, outcome.http_status, outcome.retry_after) == ("retry", 429, 17.0)
    assert outcome.reason == (
        "HTTP 429: WorkflowRequestsThrottled: Too many requests for this flow."
    )
    assert not outcome.disables


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_is_retried(status: int) -> None:
    outcome, _ = await exchange(status, headers={"Retry-After": "3"}, text="upstream hiccup")
    assert (outcome.status, outcome.retry_after) == ("retry", 3.0)
    assert outcome.reason == f"HTTP {status}: upstream hiccup"


async def test_5xx_with_a_logic_apps_error_keeps_its_code() -> None:
    outcome, _ = await exchange(503, **logic_error("ServiceUnavailable", "Try again."))
    assert (outcome.status, outcome.retry_after) == ("retry", None)
    assert outcome.reason == "HTTP 503: ServiceUnavailable: Try again."


async def test_400_fails_with_the_workflows_code_and_message() -> None:
    outcome, _ = await exchange(
        400,
        **logic_error(
            "TriggerInputSchemaMismatch",
            "The input body for trigger 'manual' of type 'Request' did not match its schema\n"
            "definition.",
        ),
    )
    assert (outcome.status, outcome.http_status, outcome.disables) == ("failed", 400, False)
    assert outcome.reason == (
        "HTTP 400: TriggerInputSchemaMismatch: The input body for trigger 'manual' of type "
        "'Request' did not match its schema definition."
    )
    assert "TriggerInputSchemaMismatch" in outcome.response_excerpt


async def test_404_fails_and_counts_toward_auto_disable() -> None:
    outcome, _ = await exchange(
        404, **logic_error("WorkflowNotFound", "The workflow 'abc123' could not be found.")
    )
    assert (outcome.status, outcome.disables) == ("failed", True)
    assert outcome.reason == "HTTP 404: WorkflowNotFound: The workflow 'abc123' could not be found."


async def test_401_bad_signature_fails_and_counts_toward_auto_disable() -> None:
    outcome, _ = await exchange(
        401,
        **logic_error(
            "DirectApiInvalidAuthorizationSignature",
            "The provided authorization signature is not valid.",
        ),
    )
    assert (outcome.status, outcome.disables) == ("failed", True)
    assert outcome.reason.startswith("HTTP 401: DirectApiInvalidAuthorizationSignature: ")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"text": "Bad Request: no JSON here"}, "HTTP 400: Bad Request: no JSON here"),
        ({"json": {"message": "not the Logic Apps shape"}}, 'HTTP 400: {"message"'),
        ({"json": {"error": "flat"}}, 'HTTP 400: {"error"'),
        ({}, "HTTP 400: Bad Request"),
    ],
)
async def test_other_4xx_bodies_fall_back_to_the_core_reading(
    answer: dict[str, Any], reason: str
) -> None:
    outcome, _ = await exchange(400, **answer)
    assert (outcome.status, outcome.disables) == ("failed", False)
    assert outcome.reason.startswith(reason)


async def test_a_long_error_message_is_cut_with_the_marker() -> None:
    outcome, _ = await exchange(400, **logic_error("InvalidRequestContent", "x" * 5000))
    assert len(outcome.reason) <= len("HTTP 400: ") + 300
    assert outcome.reason.endswith("…")
