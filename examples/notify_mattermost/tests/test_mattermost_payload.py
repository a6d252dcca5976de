"""notify-mattermost payloads: golden files, Markdown, defused broadcasts, limits.

Regenerate the golden files with ``NOTIFY_UPDATE_GOLDEN=1 pytest examples/notify_mattermost``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import notify_mattermost
import pytest

from notify_core import Action, Channel, Field, Message
from notify_core.plugin import MARKER, Payload, severity_color
from notify_core.testing import Answer, RecordingServer, check_golden, providers_for

pytest_plugins = ["notify_core.testing"]

GOLDEN = Path(__file__).parent / "golden"
TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
KEY = "abcdefghij0123456789klmnop"
URL = f"https://mattermost.example.com/hooks/{KEY}"


def channel(**settings: Any) -> Channel:
    return Channel(name="ops", provider="mattermost", url=URL, settings=settings)


def build(message: Message, ch: Channel | None = None) -> Payload:
    return providers_for(notify_mattermost).build(ch or channel(), message, "dly_1")


def rich() -> Message:
    return Message(
        title="Pipeline failed: nightly-etl",
        body="Step **load** failed after 3 retries.\n\n- table: `orders`\n- rows: 0",
        event="pipeline.failed",
        severity="error",
        fields={"Run": "r-42", "Owner": "data-eng"},
        actions=[Action("Open run", "https://airflow.example.com/runs/42")],
        timestamp=TS,
    )


CASES = {
    "small": (lambda: Message(title="Backup done", body="42 GB in 3 min", timestamp=TS), {}),
    "rich": (rich, {"mention_on_failure": "here", "username": "notify"}),
    "plain": (rich, {"rich": False}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    make, settings = CASES[name]
    check_golden(GOLDEN / f"{name}.json", build(make(), channel(**settings)).body)


def test_rich_layout_uses_slack_compatible_attachments() -> None:
    body = build(rich(), channel(mention_on_failure=True)).body
    assert body["text"] == "@channel **[ERROR] Pipeline failed: nightly-etl**"
    [attachment] = body["attachments"]
    assert attachment["color"] == severity_color("error")
    assert attachment["text"].startswith("Step **load** failed")
    assert attachment["text"].endswith("[Open run](https://airflow.example.com/runs/42)")
    assert attachment["fields"] == [
        {"title": "Run", "value": "r-42", "short": True},
        {"title": "Owner", "value": "data-eng", "short": True},
    ]
    assert attachment["footer"] == "error · pipeline.failed · 2026-01-02 03:04:05 UTC"


def test_broadcasts_in_message_text_are_defused() -> None:
    body = build(Message(title="@channel hi", body="ping @ALL and @here", timestamp=TS)).body
    text = body["text"] + body["attachments"][0]["text"]
    assert "@channel" not in text and "@ALL" not in text and "@here" not in text
    assert "@\u200bchannel" in text


def test_no_broadcast_for_resolves_or_below_error() -> None:
    ch = channel(mention_on_failure="all")
    assert (
        not build(Message(title="t", severity="warning", timestamp=TS), ch)
        .body["text"]
        .startswith("@")
    )
    done = Message(title="t", severity="critical", state="resolve", timestamp=TS)
    assert build(done, ch).body["text"] == "**[RESOLVED] t**"


def test_many_fields_are_capped_and_counted() -> None:
    message = Message(title="t", fields=[Field(f"f{i}", "v" * 900) for i in range(25)])
    [attachment] = build(message).body["attachments"]
    assert len(attachment["fields"]) == 20
    assert all(f["value"].endswith(MARKER) and len(f["value"]) == 500 for f in attachment["fields"])
    assert attachment["footer"].endswith("… 5 more fields not shown")


def test_a_post_through_the_kit_notifier(notifier_for, recorder: RecordingServer) -> None:
    recorder.script(Answer(200, "ok"))
    notifier = notifier_for(notify_mattermost, channel(), name="mattermost")
    result = notifier.send(rich(), to=["ops"])
    assert [d.status for d in result.deliveries] == ["delivered"]
    [request] = recorder.requests
    assert request.path == f"/hooks/{KEY}"
    assert request.json()["attachments"][0]["fields"][0] == {
        "title": "Run",
        "value": "r-42",
        "short": True,
    }
