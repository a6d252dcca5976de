"""A group's summary renders through every installed provider, unchanged plugins included.

The summary is an ordinary Message: this builds it for groups of 1, 12 and 200 items
through each provider's own ``build_payload`` (the bundled plugins, the example
third-party plugins, the console), with the contract kit's checks (pure, serialisable,
within ``max_payload_bytes``). The contract suite of every plugin also builds these
summaries (``reference_messages``), with that plugin's own limit checks.
"""

from __future__ import annotations

import json

import pytest

from notify_core import Channel, Providers
from notify_core.testing import group_summaries, group_summary
from notify_core.testing._contract import check_hard_message, check_pure

PROVIDERS = Providers.discover()
SLACK = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"
TEAMS = (
    "https://prod-00.westeurope.logic.azure.com:443/workflows/abc123/triggers/manual/paths/"
    "invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SECRETSIG123456789"
)
#: A valid channel of every provider this repository installs.
CHANNELS = {
    "console": Channel(name="ops", provider="console", url="console://stdout"),
    "webhook": Channel(name="ops", provider="webhook", url="https://hooks.example.com/notify"),
    "email": Channel(
        name="ops",
        provider="email",
        options={"host": "smtp.example.com", "from": "alerts@example.com", "to": "ops@example.com"},
    ),
    "slack": Channel(name="ops", provider="slack", url=SLACK),
    "teams": Channel(name="ops", provider="teams", url=TEAMS),
    "pagerduty": Channel(
        name="ops",
        provider="pagerduty",
        options={"routing_key": "R0utingKeyF0rTests0nly1234567abc"},
    ),
    "discord": Channel(
        name="ops",
        provider="discord",
        url="https://discord.com/api/webhooks/123456789012345678/dIsCoRdToKeN_0123456789-abcdef",
    ),
    "mattermost": Channel(
        name="ops",
        provider="mattermost",
        url="https://chat.example.com/hooks/abcdefghij0123456789klmnop",
    ),
}


def test_every_installed_provider_is_rendered_here():
    assert set(PROVIDERS.installed) <= set(CHANNELS), "add a channel for the new provider"


@pytest.mark.parametrize("provider", sorted(CHANNELS))
@pytest.mark.parametrize("label", ["group of 1", "group of 12", "group of 200"])
def test_a_summary_builds_within_the_providers_limits(provider, label):
    if provider not in PROVIDERS.installed:
        pytest.fail(f"provider {provider!r} is not installed: pip install -e its plugin")
    channel = CHANNELS[provider]
    message = group_summaries()[label]
    payload = check_hard_message(PROVIDERS, channel, message, label, marks_cuts=True)
    text = payload.content().decode()
    assert message.title in text or json.dumps(message.title)[1:-1] in text
    if label == "group of 200":
        assert "… and 190 more" in text or "\\u2026 and 190 more" in text


@pytest.mark.parametrize("provider", sorted(CHANNELS))
def test_summaries_build_the_same_payload_twice(provider):
    check_pure(PROVIDERS, CHANNELS[provider], group_summaries())


def test_a_webhook_receiver_gets_the_items_as_data():
    body = PROVIDERS.build(CHANNELS["webhook"], group_summary(200, resolved=20), "d1").body
    group = body["data"]["group"]
    assert (group["count"], group["firing"], group["resolved"]) == (200, 180, 20)
    assert len(group["items"]) == 100 and group["truncated"] == 100
    first = group["items"][0]
    assert first["dedup_key"] == "training.failed:r-0"
    assert first["links"] == [{"label": "View run", "url": "https://ml.example.com/runs/0"}]
    assert {"name": "run", "value": "r-0"} in first["fields"]
    assert body["severity"] == "critical"  # the highest item's
    assert body["dedup_key"] == "notify.group:g0123456789abcdef"
    assert body["title"] == "180 × training.failed on model resnet (20 resolved)"
    assert len(body["actions"]) == 5


def test_a_summary_of_one_is_that_message():
    one = group_summary(1)
    assert one.title == "Training failed: resnet run r-0"
    assert one.body.startswith("loss is **NaN** at step 1200")
    assert [a.label for a in one.actions] == ["View run"]
    assert one.data["run"] == "r-0" and one.data["group"]["count"] == 1


@pytest.mark.parametrize("label", ["group of 12", "group of 200"])
def test_a_slack_summary_keeps_block_kit_limits(label):
    body = PROVIDERS.build(CHANNELS["slack"], group_summaries()[label], "d1").body
    blocks = body["blocks"]
    assert len(blocks) <= 50
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            assert all(len(e["text"]["text"]) <= 75 for e in block["elements"])
            assert all(len(e["url"]) <= 3000 for e in block["elements"])
    # the links in the item lines became Slack links, not raw markdown
    assert "<https://ml.example.com/runs/0|View run>" in json.dumps(blocks)
