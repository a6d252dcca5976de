"""notify-teams against the provider contract every notify plugin must pass."""

from __future__ import annotations

import json

import notify_teams
from notify_core import Message
from notify_core.plugin import Payload
from notify_core.testing import Answer, Example, ProviderContract

SIG = "SECRETSIGNATUREVALUE123456789"
QUERY = f"api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIG}"
LOGIC = f"https://prod-00.westeurope.logic.azure.com:443/workflows/abc123/triggers/manual/paths/invoke?{QUERY}"
POWER = (
    "https://default1234.56.environment.api.powerplatform.com:443/powerautomate/automations/"
    f"direct/workflows/abc123/triggers/manual/paths/invoke?{QUERY}"
)


def logic_error(code: str, message: str) -> str:
    return json.dumps({"error": {"code": code, "message": message}})


class TestTeamsContract(ProviderContract):
    plugin = notify_teams
    provider = "teams"
    valid = (
        Example(LOGIC, secrets=(SIG,)),
        Example(POWER, secrets=(SIG,)),
        Example(
            LOGIC,
            settings={"mentions": [{"name": "Ada", "id": "ada@example.com"}]},
            secrets=(SIG,),
        ),
    )
    invalid = (
        Example(LOGIC.replace("https://", "http://"), secrets=(SIG,), why="not https"),
        Example(LOGIC.replace(f"&sig={SIG}", ""), why="no signature"),
        Example(
            "https://outlook.office.com/webhook/abc@def/IncomingWebhook/123/456",
            why="retired Office 365 connector",
        ),
        Example(LOGIC.replace("logic.azure.com", "example.com"), secrets=(SIG,), why="host"),
        Example(
            LOGIC,
            settings={"full_width": "yes"},
            secrets=(SIG,),
            key="settings.full_width",
        ),
        Example(
            LOGIC,
            settings={"mentions": [{"name": "Ada"}]},
            secrets=(SIG,),
            key="settings.mentions[0].id",
        ),
    )
    success_answers = (Answer(202, b""), Answer(200, "ok"))
    client_error_answers = (
        Answer(400, logic_error("InvalidRequestContent", "The request content is not valid")),
        Answer(401, logic_error("DirectApiAuthorizationRequired", "no signature")),
        Answer(404, logic_error("WorkflowNotFound", "The workflow was not found")),
    )
    rate_limited = Answer(
        429,
        logic_error("WorkflowRequestsThrottled", "Too many requests"),
        headers={"Retry-After": "17"},
    )
    rate_limited_retry_after = 17.0

    def assert_within_limits(self, payload: Payload, message: Message, label: str) -> None:
        assert len(payload.content()) <= notify_teams.MAX_PAYLOAD_BYTES
        card = payload.body["attachments"][0]["content"]
        assert card["type"] == "AdaptiveCard"
        assert len(card.get("actions", [])) <= 6
