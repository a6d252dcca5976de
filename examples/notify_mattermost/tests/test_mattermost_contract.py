"""notify-mattermost against the provider contract every notify plugin must pass."""

from __future__ import annotations

import json

import notify_mattermost

from notify_core.plugin import Channel, Message, Payload
from notify_core.testing import (
    Answer,
    Example,
    ProviderContract,
    check_answer,
    providers_for,
)

pytest_plugins = ["notify_core.testing"]

KEY = "abcdefghij0123456789klmnop"
URL = f"https://mattermost.example.com/hooks/{KEY}"


def app_error(status: int, message: str, ident: str) -> str:
    return json.dumps({"id": ident, "message": message, "status_code": status})


class TestMattermostContract(ProviderContract):
    plugin = notify_mattermost
    provider = "mattermost"
    valid = (
        Example(URL, secrets=(KEY,)),
        Example(f"https://chat.example.org:8443/mattermost/hooks/{KEY}", secrets=(KEY,)),
        Example(URL, settings={"rich": False, "mention_on_failure": "here"}, secrets=(KEY,)),
    )
    invalid = (
        Example(URL.replace("https://", "http://"), secrets=(KEY,), why="not https"),
        Example("https://mattermost.example.com/hooks/short", why="key too short"),
        Example(f"{URL}/extra", secrets=(KEY,), why="trailing path"),
        Example(f"https://mattermost.example.com/webhooks/{KEY}", secrets=(KEY,)),
        Example(URL, settings={"colour": "red"}, secrets=(KEY,), key="settings.colour"),
        Example(URL, settings={"rich": "yes"}, secrets=(KEY,), key="settings.rich"),
    )
    success_answers = (Answer(200, "ok"),)
    client_error_answers = (
        Answer(400, app_error(400, "Invalid webhook", "web.incoming_webhook.invalid.app_error")),
        Answer(404, "404 page not found"),
    )

    def assert_within_limits(self, payload: Payload, message: Message, label: str) -> None:
        body = payload.body
        assert len(body["text"]) <= 4000 + 400
        for attachment in body.get("attachments", []):
            assert len(attachment.get("text", "")) <= 4000
            assert len(attachment.get("fields", [])) <= 20


def test_errors_keep_mattermosts_message_and_id(recorder) -> None:
    providers = providers_for(notify_mattermost, name="mattermost")
    channel = Channel(name="m", provider="mattermost", url=URL)
    answer = Answer(
        400, app_error(400, "Invalid webhook", "web.incoming_webhook.invalid.app_error")
    )
    outcome = check_answer(providers, channel, recorder, answer, "failed")
    assert outcome.reason == "HTTP 400: Invalid webhook: web.incoming_webhook.invalid.app_error"
    page = check_answer(providers, channel, recorder, Answer(404, "404 page not found"), "failed")
    assert (page.reason, page.disables) == ("HTTP 404: 404 page not found", True)
