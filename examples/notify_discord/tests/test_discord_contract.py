"""notify-discord against the provider contract every notify plugin must pass."""

from __future__ import annotations

import json

import notify_discord

from notify_core.plugin import Channel, Message, Payload
from notify_core.testing import (
    Answer,
    Example,
    ProviderContract,
    check_answer,
    providers_for,
)

pytest_plugins = ["notify_core.testing"]

ID = "123456789012345678"
TOKEN = "dIsCoRdToKeN_0123456789-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
URL = f"https://discord.com/api/webhooks/{ID}/{TOKEN}"


def error(message: str, code: int) -> str:
    return json.dumps({"message": message, "code": code})


class TestDiscordContract(ProviderContract):
    plugin = notify_discord
    provider = "discord"
    valid = (
        Example(URL, secrets=(TOKEN,)),
        Example(f"https://discordapp.com/api/webhooks/{ID}/{TOKEN}", secrets=(TOKEN,)),
        Example(f"https://canary.discord.com/api/v10/webhooks/{ID}/{TOKEN}", secrets=(TOKEN,)),
        Example(f"{URL}?wait=true&thread_id=223456789012345678", secrets=(TOKEN,)),
        Example(
            URL,
            settings={"username": "notify", "mention_roles": ["987654321098765432"]},
            secrets=(TOKEN,),
        ),
    )
    invalid = (
        Example(URL.replace("https://", "http://"), secrets=(TOKEN,), why="not https"),
        Example(URL.replace("discord.com", "discord.example.com"), secrets=(TOKEN,)),
        Example(f"https://discord.com/api/webhooks/{ID}", why="no token"),
        Example(f"https://discord.com/api/webhooks/not-an-id/{TOKEN}", secrets=(TOKEN,)),
        Example(f"{URL}?sneaky=1", secrets=(TOKEN,), why="unknown query parameter"),
        Example(URL, settings={"user_name": "x"}, secrets=(TOKEN,), key="settings.user_name"),
        Example(
            URL,
            settings={"mention_users": ["@here"]},
            secrets=(TOKEN,),
            key="settings.mention_users",
        ),
    )
    success_answers = (
        Answer(204, b""),
        Answer(200, json.dumps({"id": "323456789012345678", "type": 0})),
    )
    client_error_answers = (
        Answer(400, error("Invalid Form Body", 50035)),
        Answer(401, error("Invalid Webhook Token", 50027)),
        Answer(404, error("Unknown Webhook", 10015)),
    )
    # The JSON body's retry_after is precise; the header is rounded up to whole seconds.
    rate_limited = Answer(
        429,
        json.dumps(
            {"message": "You are being rate limited.", "retry_after": 6.457, "global": False}
        ),
        headers={"Retry-After": "7", "Content-Type": "application/json"},
    )
    rate_limited_retry_after = 6.457

    def assert_within_limits(self, payload: Payload, message: Message, label: str) -> None:
        body = payload.body
        assert len(body.get("content", "")) <= 2000
        assert 1 <= len(body["embeds"]) <= 10
        total = 0
        for embed in body["embeds"]:
            assert len(embed.get("title", "")) <= 256
            assert len(embed.get("description", "")) <= 4096
            assert len(embed.get("fields", [])) <= 25
            for field in embed.get("fields", []):
                assert 1 <= len(field["name"]) <= 256
                assert 1 <= len(field["value"]) <= 1024
            assert len(embed["footer"]["text"]) <= 2048
            total += notify_discord._embed.embed_chars(embed)
        assert total <= 6000, f"{label}: embeds hold {total} characters"


def test_answers_keep_discords_words_and_the_message_id(recorder) -> None:
    providers = providers_for(notify_discord, name="discord")
    channel = Channel(name="d", provider="discord", url=URL)
    failed = check_answer(
        providers, channel, recorder, Answer(400, error("Invalid Form Body", 50035)), "failed"
    )
    assert failed.reason == "HTTP 400: Invalid Form Body: 50035"
    gone = check_answer(
        providers, channel, recorder, Answer(404, error("Unknown Webhook", 10015)), "failed"
    )
    assert gone.disables
    created = json.dumps({"id": "323456789012345678"})
    delivered = check_answer(providers, channel, recorder, Answer(200, created), "delivered")
    assert (delivered.reason, dict(delivered.meta)) == ("ok", {"message_id": "323456789012345678"})
    page = Answer(429, "<html><title>429 Too Many Requests</title></html>")  # a proxy's page
    limited = check_answer(providers, channel, recorder, page, "retry")
    assert limited.reason == "HTTP 429: 429 Too Many Requests"
