"""Slack bot mode through the library: threads by dedup key, updates, dry runs, and the
pace per Slack channel, against the fake Web API (``conftest.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from notify_core import Channel, Message, Notifier, Rate
from notify_core.testing import query

TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
OTHER_APP = "xoxb-2222222222-3333333333-ZyXwVuTsRqPoNmLkJiHgFeDc"


def bot(name: str = "oncall", channel: str = "C0123ABCD", token: str = TOKEN, **kw: Any) -> Channel:
    settings = kw.pop("settings", {})
    return Channel(
        name=name,
        provider="slack",
        options={"token": token, "channel": channel},
        settings=settings,
        **kw,
    )


def notifier(slack_api: Any, tmp_path: Path, *channels: Channel) -> Notifier:
    return Notifier(
        channels, db=tmp_path / "n.db", reroute={"https://slack.com": slack_api.url}, env={}
    )


def test_an_incident_threads_by_dedup_key_and_its_resolve_updates_the_alert(
    slack_api, tmp_path
) -> None:
    channel = bot(settings={"thread_by": "dedup_key", "on_resolve": "update"})
    with notifier(slack_api, tmp_path, channel) as n:
        key = "disk-full:db-1"
        trigger = Message(title="Disk full on db-1", severity="error", dedup_key=key)
        for message in (
            trigger,
            Message(title="Disk full on db-1", state="acknowledge", dedup_key=key),
            Message(title="Disk full on db-1", state="resolve", dedup_key=key),
            Message(title="Disk full on db-2", severity="error", dedup_key="disk-full:db-2"),
        ):
            result = n.send(message, wait=10)
            assert result.ok, result.deliveries
    first, other = slack_api.parents()
    assert (first.text, other.text) == ("[ERROR] Disk full on db-1", "[ERROR] Disk full on db-2")
    [ack] = slack_api.replies(first.ts)
    assert ack.text.startswith("[ACKNOWLEDGED]")
    [update] = first.updates  # resolved in place, no reply
    assert update["attachments"][0]["blocks"][0]["elements"][0]["text"] == "*resolved*"
    assert update["blocks"] == first.blocks
    assert slack_api.refused == []
    assert query(tmp_path / "n.db", "SELECT key FROM threads") == [
        {"key": "C0123ABCD dedup_key=disk-full:db-2"}
    ]  # the resolve ended db-1's thread


def test_a_dry_run_shows_the_reply_it_would_make(slack_api, tmp_path) -> None:
    with notifier(slack_api, tmp_path, bot()) as n:
        assert n.send(Message(title="Run started", thread_id="run-1"), wait=10).ok
        [parent] = slack_api.parents()
        [planned] = n.plan(Message(title="Run finished", thread_id="run-1"))
    [call] = planned.payload["body"]["calls"]
    assert call["args"]["thread_ts"] == parent.ts
    assert planned.target == "slack://xoxb-****@C0123ABCD"
    assert len(slack_api.calls) == 1  # nothing sent by the dry run


def test_the_pace_is_shared_by_channels_posting_to_one_slack_channel(slack_api, tmp_path) -> None:
    """Two notify channels with two apps' tokens post to one Slack channel; a third to
    another. Slack refuses more than six posts a second per channel; notify paces each
    Slack channel at three a second with bursts of two, so nothing is refused (paced per
    token or per notify channel instead, the first two would together send twice that)."""
    slack_api.burst = 6
    slack_api.tokens[OTHER_APP] = None
    rate = Rate(per_second=3, burst=2)
    channels = [
        bot("alerts", "C0123ABCD", rate=rate),
        bot("alerts-too", "C0123ABCD", OTHER_APP, rate=rate),
        bot("elsewhere", "C0456EFGH", rate=rate),
    ]

    async def run() -> list[Any]:
        async with notifier(slack_api, tmp_path, *channels) as n:
            sends = [
                n.asend(Message(title=f"{c.name} {i}"), to=[c.name], wait=30)
                for i in range(4)
                for c in channels
            ]
            return list(await asyncio.gather(*sends))

    results = asyncio.run(run())
    assert all(r.ok for r in results)
    assert slack_api.rejected == 0
    assert len(slack_api.parents("C0123ABCD")) == 8
    assert len(slack_api.parents("C0456EFGH")) == 4


def test_the_readme_configuration_threads_an_experiment(slack_api, tmp_path) -> None:
    """The bot-mode example of the plugin's README, as a user would copy it."""
    readme = Path(__file__).parents[2] / "plugins" / "notify_slack" / "README.md"
    text = readme.read_text()
    section = text[text.index("### Setting it up") :]
    example = section[section.index("```toml") + len("```toml") : section.index("```\n", 10)]
    (tmp_path / "notify.toml").write_text(example)
    n = Notifier.from_config(
        tmp_path / "notify.toml",
        env={"SLACK_BOT_TOKEN": TOKEN},
        db=tmp_path / "n.db",
        reroute={"https://slack.com": slack_api.url},
    )
    with n:
        assert n.emit("training.started", {"experiment": "exp-42"}, wait=10).ok
        done = n.emit("training.completed", {"experiment": "exp-42", "accuracy": "0.91"}, wait=10)
        assert done.ok
    [parent] = slack_api.parents()
    assert parent.text == "Training started: exp-42"
    [reply] = slack_api.replies(parent.ts)
    assert reply.text.startswith("Training completed: exp-42")
    assert reply.reply_broadcast  # reply_broadcast = "resolve"
    [update] = parent.updates  # on_resolve = "both"
    assert update["attachments"][0]["color"] == "#2EB67D"
