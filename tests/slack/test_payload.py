"""notify-slack payloads: golden files, Slack's own Block Kit models, and every limit.

Regenerate the golden files with ``NOTIFY_UPDATE_GOLDEN=1 pytest tests/slack``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.attachments import BlockAttachment
from slack_sdk.models.blocks import Block

import notify_slack
from notify_core import Action, Channel, Field, InvalidTarget, Message, Providers
from notify_core.plugin import MARKER, Payload
from notify_core.testing import check_golden as kit_check_golden
from notify_slack import _mrkdwn

GOLDEN = Path(__file__).parent / "golden"
TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
URL = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXXXXXXXXXX"
TRIGGER_URL = (
    "https://hooks.slack.com/triggers/T0123456789/3141592653589/c6e6c0d868b3054ca0f4611a5dbadaf0"
)


def providers() -> Providers:
    p = Providers()
    p.register(notify_slack, name="slack")
    return p


def channel(url: str = URL, tenant: str | None = None, **settings: Any) -> Channel:
    return Channel(name="ml-slack", provider="slack", url=url, settings=settings, tenant=tenant)


def build(message: Message, ch: Channel | None = None) -> Payload:
    return providers().build(ch or channel(), message, "0193f2a7c1e4a1b2c3d4e")


def all_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["blocks"] + [b for a in body.get("attachments", []) for b in a.get("blocks", [])]


def assert_slack_accepts(body: dict[str, Any]) -> None:
    """Slack's own models accept every block, plus the limits they do not check."""
    blocks = all_blocks(body)
    assert len(blocks) <= 50
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None, raw
        block.validate_json()
        assert block.to_dict() == raw  # nothing we sent is unknown to Slack's model
        for field in raw.get("fields", []):
            assert 1 <= len(field["text"]) <= 2000
        for element in raw.get("elements", []):
            if raw["type"] == "context":
                assert 1 <= len(element["text"]) <= 3000
            else:
                assert 1 <= len(element["text"]["text"]) <= 75
                assert len(element["url"]) <= 3000
                assert element.get("style", "primary") in ("primary", "danger")
    for attachment in body.get("attachments", []):
        parsed = [Block.parse(b) for b in attachment["blocks"]]
        BlockAttachment(blocks=parsed, color=attachment["color"]).validate_json()
    assert 1 <= len(body["text"]) <= 3000
    action_ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(action_ids) == len(set(action_ids))


def check_golden(name: str, payload: Payload) -> None:
    record = {
        "method": payload.method,
        "url": payload.url,
        "headers": dict(payload.headers),
        "content_type": payload.content_type,
        "body": payload.body,
    }
    kit_check_golden(GOLDEN / f"{name}.json", record)


# -- the three reference messages ------------------------------------------------------


def small() -> Message:
    return Message(title="Backup done", timestamp=TS)


def rich() -> Message:
    return Message(
        title="Training failed: resnet50-imagenet",
        body=(
            "Loss diverged at **step 1200** (NaN).\n"
            "See the [run page](https://ml.example.com/runs/42?tab=logs&step=1200) "
            "and check `lr` > 0.1."
        ),
        event="training.failed",
        severity="error",
        fields={"Experiment": "resnet50", "Run": "r-42", "Best accuracy": "0.913", "GPU": "8×A100"},
        actions=[
            Action("View run", "https://ml.example.com/runs/42", "primary"),
            Action("Open logs", "https://ml.example.com/runs/42/logs"),
            Action("Stop campaign", "https://ml.example.com/hpo/7/stop", "danger"),
        ],
        timestamp=TS,
        thread_id="1767323045.000100",
    )


def rich_channel() -> Channel:
    return channel(tenant="acme", mention_on_failure="here", mention_users=["U0123ABCD"])


_LINE = (
    "## Ünïcödé résumé 🚀🔥 漢字 — **bold** _it_ ~~old~~ `code` "
    "[docs](https://example.com/docs?a=1&b=2) <!channel> <@U999> & a > b\n"
    "> a quoted line with <script>alert(1)</script>\n"
)


def hostile() -> Message:
    title = ("Ωmega run 🚀 diverged «again» " * 10)[:200]
    body = (_LINE * 60)[:5000]
    fields = [Field(f"metric_{i:02d} ✓", "0." + "9" * (2500 if i == 0 else i)) for i in range(25)]
    actions = [
        Action(
            ("Open the very long dashboard name " * 4 if i == 0 else f"Action {i} ✨"),
            (
                "https://example.com/" + "x" * 3100
                if i == 29
                else f"https://example.com/a/{i}?q=<{i}>&x=1"
            ),
            ("primary", "danger", "default")[i % 3],
        )
        for i in range(30)
    ]
    return Message(
        title=title,
        body=body,
        event="training.failed",
        severity="critical",
        fields=fields,
        actions=actions,
        timestamp=TS,
    )


def test_golden_small() -> None:
    payload = build(small())
    assert_slack_accepts(payload.body)
    check_golden("small", payload)


def test_golden_rich() -> None:
    payload = build(rich(), rich_channel())
    assert_slack_accepts(payload.body)
    check_golden("rich", payload)


def test_golden_hostile() -> None:
    payload = build(hostile(), rich_channel())
    assert_slack_accepts(payload.body)
    check_golden("hostile", payload)


def test_small_shape() -> None:
    body = build(small()).body
    assert body["text"] == "Backup done"
    assert [b["type"] for b in body["blocks"]] == ["header"]
    assert body["attachments"][0]["color"] == "#2EB67D"
    assert "thread_ts" not in body


def test_rich_shape() -> None:
    body = build(rich(), rich_channel()).body
    types = [b["type"] for b in body["blocks"]]
    assert types == ["header", "section", "section", "section", "actions"]
    assert body["blocks"][0]["text"] == {
        "type": "plain_text",
        "text": "Training failed: resnet50-imagenet",
        "emoji": True,
    }
    assert body["blocks"][1]["text"]["text"] == "<!here> <@U0123ABCD>"
    section = body["blocks"][2]["text"]
    assert section["type"] == "mrkdwn"
    assert "*step 1200*" in section["text"]
    assert "<https://ml.example.com/runs/42?tab=logs&amp;step=1200|run page>" in section["text"]
    assert "`lr` &gt; 0.1" in section["text"]
    assert body["blocks"][3]["fields"][0] == {"type": "mrkdwn", "text": "*Experiment*\nresnet50"}
    buttons = body["blocks"][4]["elements"]
    assert [b.get("style") for b in buttons] == ["primary", None, "danger"]
    assert "style" not in buttons[1]
    assert body["thread_ts"] == "1767323045.000100"
    assert body["attachments"][0]["color"] == "#E01E5A"
    context = [e["text"] for e in body["attachments"][0]["blocks"][0]["elements"]]
    assert context == [
        "*error*",
        "training.failed",
        "<!date^1767323045^{date_short_pretty} {time_secs}|2026-01-02 03:04:05 UTC>",
        "tenant: acme",
    ]
    assert body["text"].startswith("<!here> <@U0123ABCD> [ERROR] Training failed")


def test_hostile_is_trimmed_visibly() -> None:
    body = build(hostile(), rich_channel()).body
    blocks = body["blocks"]
    header = blocks[0]["text"]["text"]
    assert len(header) <= 150
    assert header.endswith(MARKER)
    assert blocks[1]["text"]["text"] == "<!here> <@U0123ABCD>"  # critical ≥ error
    section = blocks[2]["text"]["text"]
    assert len(section) <= 3000
    assert section.endswith(MARKER)
    fields = [f for b in blocks if b["type"] == "section" for f in b.get("fields", [])]
    assert len(fields) == 25  # all fit: 3 sections of ≤ 10
    assert fields[0]["text"].endswith(MARKER)
    assert len(fields[0]["text"]) <= 2000
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [len(b["elements"]) for b in blocks if b["type"] == "actions"] == [25, 4]
    assert len(buttons) == 29  # the 3,100-character URL is dropped, not cut
    assert buttons[0]["text"]["text"].endswith(MARKER)
    assert len(body["text"]) <= 3000
    assert body["text"].endswith(MARKER)
    notes = [e["text"] for e in body["attachments"][0]["blocks"][0]["elements"]]
    assert "1 action dropped: URL longer than 3000 characters" in notes
    assert body["attachments"][0]["color"] == "#8B0000"


def test_hostile_text_cannot_inject_mentions_or_markup() -> None:
    body = build(hostile()).body  # no mention settings: the only "<" must be ours
    dumped = json.dumps(body, ensure_ascii=False)
    assert "<!channel>" not in dumped
    assert "<@U999>" not in dumped
    assert "<script>" not in dumped
    for block in body["blocks"]:
        text = block.get("text", {}).get("text", "") if block["type"] == "section" else ""
        for sequence in re.findall(r"<[^>]*>", text):
            assert sequence.startswith("<https://example.com/docs?a=1&amp;b=2|")


# -- limits ----------------------------------------------------------------------------


def test_block_budget_keeps_a_row_of_buttons_and_says_what_is_hidden() -> None:
    message = Message(
        title="Many",
        body="b",
        fields=[Field(f"f{i}", str(i)) for i in range(600)],
        actions=[Action(f"a{i}", f"https://example.com/{i}") for i in range(100)],
        timestamp=TS,
    )
    body = build(message).body
    assert_slack_accepts(body)
    assert len(all_blocks(body)) == 50
    types = [b["type"] for b in body["blocks"]]
    assert types.count("actions") == 1
    assert types.count("section") == 1 + 46  # body + field sections
    notes = [e["text"] for e in body["attachments"][0]["blocks"][0]["elements"]]
    assert "140 more fields not shown" in notes
    assert "75 more actions not shown" in notes


def test_many_actions_use_several_blocks_within_budget() -> None:
    message = Message(
        title="Buttons",
        actions=[Action(f"a{i}", f"https://example.com/{i}") for i in range(2000)],
        timestamp=TS,
    )
    body = build(message).body
    assert_slack_accepts(body)
    assert [b["type"] for b in body["blocks"]].count("actions") == 48
    notes = [e["text"] for e in body["attachments"][0]["blocks"][0]["elements"]]
    assert f"{2000 - 48 * 25} more actions not shown" in notes


def test_fields_are_split_in_sections_of_ten() -> None:
    body = build(Message(title="t", fields={f"k{i}": "v" for i in range(21)}, timestamp=TS)).body
    assert [len(b["fields"]) for b in body["blocks"] if "fields" in b] == [10, 10, 1]


def test_empty_title_and_empty_fields_are_never_sent() -> None:
    message = Message(
        title="", event="disk.full", fields=[Field("", ""), Field("k", "")], timestamp=TS
    )
    body = build(message).body
    assert_slack_accepts(body)
    assert body["text"] == "disk.full"
    assert [b["type"] for b in body["blocks"]] == ["section"]
    assert body["blocks"][0]["fields"] == [{"type": "mrkdwn", "text": "*k*\n"}]


def test_action_without_url_is_dropped_with_a_note() -> None:
    body = build(Message(title="t", actions=[Action("x", "")], timestamp=TS)).body
    assert_slack_accepts(body)
    assert all(b["type"] != "actions" for b in body["blocks"])
    notes = [e["text"] for e in body["attachments"][0]["blocks"][0]["elements"]]
    assert notes[-1] == "1 action dropped: no URL"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.text(max_size=300),
    body=st.text(max_size=4000),
    fields=st.lists(st.tuples(st.text(max_size=30), st.text(max_size=2100)), max_size=40),
    actions=st.lists(
        st.tuples(
            st.text(max_size=90),
            st.sampled_from(["https://e.com/a", "https://e.com/" + "y" * 3000, ""]),
            st.sampled_from(["default", "primary", "danger"]),
        ),
        max_size=60,
    ),
    severity=st.sampled_from(["info", "warning", "error", "critical"]),
)
def test_any_message_yields_blocks_slack_accepts(
    title: str, body: str, fields: list[tuple[str, str]], actions: list[Any], severity: str
) -> None:
    message = Message(
        title=title,
        body=body,
        severity=severity,
        fields=[Field(*f) for f in fields],
        actions=[Action(*a) for a in actions],
        timestamp=TS,
    )
    assert_slack_accepts(build(message, rich_channel()).body)


# -- mrkdwn ----------------------------------------------------------------------------


def test_escape_keeps_block_quotes_only() -> None:
    assert _mrkdwn.escape("a <b> & c\n> quote > x") == "a &lt;b&gt; &amp; c\n> quote &gt; x"


def test_markdown_is_converted() -> None:
    text = "# Title\n**bold** ~~gone~~ [a & b](https://e.com/?x=1&y=2)"
    assert (
        _mrkdwn.from_markdown(text)
        == "*Title*\n*bold* ~gone~ <https://e.com/?x=1&amp;y=2|a &amp; b>"
    )


def test_fit_never_cuts_an_entity_or_a_link() -> None:
    assert _mrkdwn.fit("abc &amp; def", 7) == "abc" + MARKER
    assert _mrkdwn.fit("see <https://example.com/x|the docs> now", 20) == "see" + MARKER


@given(st.text(max_size=400), st.integers(min_value=2, max_value=300))
def test_fit_property(text: str, limit: int) -> None:
    result = _mrkdwn.fit(_mrkdwn.from_markdown(text), limit)
    assert len(result) <= limit
    if result.endswith(MARKER) and len(_mrkdwn.from_markdown(text)) > limit:
        head = result[: -len(MARKER)]
        assert head.rfind("<") <= head.rfind(">")
        assert not re.search(r"&[a-z]{0,3}$", head)


# -- modes and settings ----------------------------------------------------------------


def test_mentions_only_for_raised_failures() -> None:
    ch = channel(mention_on_failure=True)
    assert (
        build(Message(title="t", severity="error", timestamp=TS), ch)
        .body["text"]
        .startswith("<!channel> ")
    )
    assert "<!channel>" not in json.dumps(build(Message(title="t", severity="warning"), ch).body)
    resolved = Message(title="t", severity="critical", state="resolve", timestamp=TS)
    body = build(resolved, ch).body
    assert "<!channel>" not in json.dumps(body)
    assert body["attachments"][0]["color"] == "#2EB67D"
    assert body["text"] == "[RESOLVED] t"


def test_mention_users_and_groups_on_every_message() -> None:
    body = build(Message(title="t", timestamp=TS), channel(mention_users=["U123", "S0456"])).body
    assert body["blocks"][1]["text"]["text"] == "<@U123> <!subteam^S0456>"


def test_plain_mode_sends_only_text() -> None:
    body = build(rich(), channel(rich=False, mention_on_failure="channel")).body
    assert set(body) == {"text", "thread_ts"}
    text = body["text"]
    assert text.startswith("<!channel>\n*[ERROR] Training failed: resnet50-imagenet*\n")
    assert "*Run*: r-42" in text
    assert "<https://ml.example.com/runs/42|View run>" in text
    assert text.endswith(
        "error · training.failed · <!date^1767323045^{date_short_pretty} "
        "{time_secs}|2026-01-02 03:04:05 UTC>"
    )


def test_plain_mode_is_capped() -> None:
    text = build(hostile(), channel(rich=False)).body["text"]
    assert len(text) <= 4000
    assert text.endswith(MARKER)


def test_raw_override_wins() -> None:
    raw = {"text": "exactly this", "blocks": [{"type": "divider"}]}
    message = Message(title="ignored", overrides={"slack": raw, "teams": {"x": 1}}, timestamp=TS)
    assert build(message).body == raw


def test_trigger_gets_flat_string_variables() -> None:
    payload = build(rich(), channel(TRIGGER_URL, tenant="acme"))
    body = payload.body
    assert all(isinstance(v, str) for v in body.values())
    assert body["title"] == "Training failed: resnet50-imagenet"
    assert body["severity"] == "error"
    assert body["timestamp"] == "2026-01-02T03:04:05+00:00"
    assert body["tenant"] == "acme"
    assert body["url"] == "https://ml.example.com/runs/42"
    assert body["fields"].splitlines()[1] == "Run: r-42"
    assert body["text"] == "[ERROR] Training failed: resnet50-imagenet"
    long = build(hostile(), channel(TRIGGER_URL)).body
    assert all(len(v) <= 3000 for v in long.values())
    assert long["body"].endswith(MARKER)
    assert "x" * 3000 not in long["actions"]


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        ({"mention_on_failures": True}, "unknown key 'mention_on_failures'"),
        ({"rich": "no"}, "settings.rich must be true or false"),
        ({"mention_on_failure": "everyone"}, "mention_on_failure must be"),
        ({"mention_users": "U123"}, "must be a list"),
        ({"mention_users": ["@alice"]}, "'@alice' is not a Slack member id"),
    ],
)
def test_bad_settings_are_rejected_by_validation(settings: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidTarget, match=re.escape(needle)):
        providers().validate(channel(**settings))


def test_build_is_pure() -> None:
    ch = rich_channel()
    assert build(hostile(), ch) == build(hostile(), ch)
