"""notify-discord payloads: golden files, colours, limits and mentions.

Regenerate the golden files with ``NOTIFY_UPDATE_GOLDEN=1 pytest examples/notify_discord``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import notify_discord
import pytest
from notify_discord import _embed

from notify_core import Action, Channel, Field, Message, Severity
from notify_core.plugin import MARKER, Payload
from notify_core.testing import check_golden, providers_for

GOLDEN = Path(__file__).parent / "golden"
TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
TOKEN = "dIsCoRdToKeN_0123456789-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
URL = f"https://discord.com/api/webhooks/123456789012345678/{TOKEN}"
ROLE = "987654321098765432"


def channel(**settings: Any) -> Channel:
    return Channel(name="ml-discord", provider="discord", url=URL, settings=settings)


def build(message: Message, ch: Channel | None = None) -> Payload:
    return providers_for(notify_discord).build(ch or channel(), message, "dly_1")


def rich() -> Message:
    return Message(
        title="Training failed: resnet-50",
        body="loss is **NaN** at step 1200",
        event="training.failed",
        severity="critical",
        fields=[Field("Run", "r-42"), Field("Loss", "NaN"), Field("Notes", "long text", False)],
        actions=[
            Action("View run", "https://ml.example.com/runs/42"),
            Action("Logs", "https://ml.example.com/runs/42/logs"),
        ],
        timestamp=TS,
    )


CASES = {
    "small": (lambda: Message(title="Backup done", body="42 GB in 3 min", timestamp=TS), {}),
    "rich": (rich, {"mention_roles": [ROLE], "username": "notify"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    make, settings = CASES[name]
    payload = build(make(), channel(**settings))
    check_golden(GOLDEN / f"{name}.json", {"url": payload.url, "body": payload.body})


def test_embed_colour_is_the_core_severity_colour_as_an_integer() -> None:
    for severity in Severity:
        embed = build(Message(title="t", severity=severity, timestamp=TS)).body["embeds"][0]
        assert f"#{embed['color']:06X}" == notify_discord._embed.severity_color(severity)
    resolved = Message(title="t", severity="critical", state="resolve", timestamp=TS)
    assert build(resolved).body["embeds"][0]["color"] == _embed.color(Severity.INFO)


def test_rich_message_layout() -> None:
    body = build(rich(), channel(mention_roles=[ROLE])).body
    assert body["content"] == f"<@&{ROLE}> Training failed: resnet-50"
    assert body["allowed_mentions"] == {"parse": [], "users": [], "roles": [ROLE]}
    [embed] = body["embeds"]
    assert embed["title"] == "Training failed: resnet-50"
    assert embed["url"] == "https://ml.example.com/runs/42"
    assert embed["description"] == "loss is **NaN** at step 1200"
    assert [f["name"] for f in embed["fields"]] == ["Run", "Loss", "Notes", "Links"]
    assert embed["fields"][2]["inline"] is False
    assert embed["fields"][3]["value"] == "[Logs](https://ml.example.com/runs/42/logs)"
    assert embed["footer"]["text"] == "CRITICAL · training.failed"
    assert embed["timestamp"] == "2026-01-02T03:04:05+00:00"


def test_no_mentions_below_the_floor_or_on_resolve() -> None:
    ch = channel(mention_users=["123456789012345678"])
    assert "content" not in build(Message(title="t", severity="warning", timestamp=TS), ch).body
    done = Message(title="t", severity="critical", state="resolve", timestamp=TS)
    assert "content" not in build(done, ch).body


def test_everyone_in_event_data_pings_nobody() -> None:
    body = build(Message(title="@everyone look", body="@here", timestamp=TS)).body
    assert body["allowed_mentions"]["parse"] == []


def test_empty_fields_get_a_zero_width_placeholder() -> None:
    embed = build(Message(title="t", fields=[Field("", "")], timestamp=TS)).body["embeds"][0]
    assert embed["fields"][0]["name"] == embed["fields"][0]["value"] == "\u200b"


def test_a_huge_message_keeps_every_discord_limit_and_says_what_it_dropped() -> None:
    message = Message(
        title="T" * 1000,
        body="b" * 10_000,
        fields=[Field(f"f{i}", "v" * 2000) for i in range(40)],
        timestamp=TS,
    )
    [embed] = build(message).body["embeds"]
    assert len(embed["title"]) == 256 and embed["title"].endswith(MARKER)
    assert _embed.embed_chars(embed) <= 6000
    assert len(embed["description"]) >= _embed.DESCRIPTION_FLOOR
    assert embed["description"].endswith(MARKER)
    assert all(len(f["value"]) <= 1024 for f in embed["fields"])
    shown = len(embed["fields"])
    assert f"{40 - shown} more fields not shown" in embed["footer"]["text"]


def test_a_thread_id_posts_into_the_thread_and_keeps_the_token_out_of_the_body() -> None:
    payload = build(Message(title="t", thread_id="223456789012345678", timestamp=TS))
    assert payload.url == f"{URL}?thread_id=223456789012345678"
    assert TOKEN not in str(payload.body)
    assert build(Message(title="t", thread_id="not-numeric", timestamp=TS)).url is None
