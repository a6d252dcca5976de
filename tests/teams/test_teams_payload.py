"""notify-teams payloads: golden cards, the Adaptive Card 1.5 schema, the 28 KB limit.

Regenerate the golden files with ``NOTIFY_UPDATE_GOLDEN=1 pytest tests/teams``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft6Validator

import notify_teams
from notify_core import Action, Channel, Field, InvalidTarget, Message, PayloadError, Providers
from notify_core.plugin import MARKER
from notify_core.testing import check_golden

TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
SIG = "SECRETSIGNATUREVALUE123456789"
URL = (
    "https://prod-00.westeurope.logic.azure.com:443/workflows/abc123/triggers/manual/paths/"
    f"invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIG}"
)
GOLDEN = Path(__file__).parent / "golden"
SPEC_FILE = Path(__file__).resolve().parents[1] / "specs" / "adaptive-card-1.5.0.json"
LIMIT = 28_000
MENTIONS = [
    {"name": "Ada Lovelace", "id": "ada@example.com"},
    {"name": "Bob", "id": "8d2c6a9e-1f4b-4c1e-9a51-2b3c4d5e6f70"},
]

UNICODE = 'Ünïcödé ✓ — 日本語テキスト 🚀🔥 «guillemets» "quoted" back\\slash\ttab '
MARKDOWN = "**bold** _italic_ `code` [link](https://example.com/a?b=1&c=2) "


def hostile_text(length: int) -> str:
    chunk = "## Heading\n- " + MARKDOWN + UNICODE + "\n"
    return (chunk * (length // len(chunk) + 1))[:length]


def providers() -> Providers:
    registry = Providers()
    registry.register(notify_teams, name="teams")
    return registry


def channel(**settings: Any) -> Channel:
    tenant = settings.pop("tenant", None)
    return Channel(name="ml-teams", provider="teams", url=URL, settings=settings, tenant=tenant)


def build(message: Message, ch: Channel | None = None) -> dict[str, Any]:
    registry = providers()
    ch = ch or channel()
    registry.validate(ch)
    body: dict[str, Any] = registry.build(ch, message, "0193f2a7c1e4a1b2c3d4e").body
    return body


def card_of(envelope: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = envelope["attachments"][0]["content"]
    return content


def size(envelope: dict[str, Any]) -> int:
    return len(json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode())


@cache
def validator() -> Draft6Validator:
    if not SPEC_FILE.exists():
        pytest.fail(f"the Adaptive Card schema is missing: {SPEC_FILE}")
    schema = json.loads(SPEC_FILE.read_text())
    Draft6Validator.check_schema(schema)
    return Draft6Validator(schema)


def assert_valid_card(envelope: dict[str, Any]) -> None:
    """The envelope's shape, the card against the schema, and ``msteams`` on its own.

    The published 1.5 schema has no ``msteams`` property (Teams' extension), so the
    card is validated with that one key removed, and the key is checked here instead.
    """
    assert envelope["type"] == "message"
    [attachment] = envelope["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card = copy.deepcopy(attachment["content"])
    msteams = card.pop("msteams", None)
    errors = sorted(validator().iter_errors(card), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors]
    assert card["type"] == "AdaptiveCard"
    assert float(card["version"]) <= 1.5
    if msteams is not None:
        assert set(msteams) <= {"width", "entities"}
        assert msteams.get("width", "Full") == "Full"
        texts = json.dumps(card["body"], ensure_ascii=False)
        for entity in msteams.get("entities", []):
            assert set(entity) == {"type", "text", "mentioned"}
            assert entity["type"] == "mention"
            assert set(entity["mentioned"]) == {"id", "name"}
            assert entity["text"] == f"<at>{entity['mentioned']['name']}</at>"
            assert entity["text"] in texts
    assert size(envelope) <= LIMIT


def small_message() -> Message:
    return Message(title="Backup done", body="42 GB in 3 min", timestamp=TS)


def rich_message() -> Message:
    return Message(
        title="Training failed: resnet50-imagenet",
        body=(
            "Run **7f3a** stopped at epoch 12 of 90.\n\n"
            "- loss went to `nan`\n- last checkpoint: epoch 11"
        ),
        event="training.failed",
        severity="error",
        fields={
            "Experiment": "resnet50-imagenet",
            "Epoch": "12 / 90",
            "Loss": "nan",
            "Accuracy": "0.713",
            "GPU hours": "41.5",
            "Owner": "ml-platform",
        },
        actions=[
            Action("View run", "https://ml.example.com/runs/7f3a", "primary"),
            Action("Stop sweep", "https://ml.example.com/sweeps/12/stop", "danger"),
            Action("Logs", "https://ml.example.com/runs/7f3a/logs"),
        ],
        timestamp=TS,
    )


def hostile_message() -> Message:
    return Message(
        title=(("🔥 **Prod down** — " + UNICODE) * 10)[:200],
        body=hostile_text(5000),
        event="pipeline.failed",
        severity="critical",
        fields=[Field(f"metric {i} " + "ü" * (6 * i), hostile_text(40 * i)) for i in range(25)],
        actions=[
            Action(
                f"Action {i} " + "✓" * (3 * i),
                f'https://example.com/runs/{i}?q=ü&x="y"',
                ("default", "primary", "danger")[i % 3],
            )
            for i in range(30)
        ],
        timestamp=TS,
    )


CASES: dict[str, tuple[Callable[[], Message], dict[str, Any]]] = {
    "small": (small_message, {}),
    "rich": (rich_message, {"mentions": MENTIONS, "tenant": "acme"}),
    "hostile": (hostile_message, {"mentions": MENTIONS}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    make, settings_ = CASES[name]
    envelope = build(make(), channel(**settings_))
    assert_valid_card(envelope)
    check_golden(GOLDEN / f"{name}.json", envelope)


def test_small_card_is_the_plain_minimum() -> None:
    card = card_of(build(small_message()))
    assert [b["type"] for b in card["body"]] == ["TextBlock", "TextBlock", "TextBlock"]
    title, body, context = card["body"]
    assert title["text"] == "Backup done"
    assert (title["weight"], title["size"], title["color"]) == ("bolder", "medium", "good")
    assert body == {"type": "TextBlock", "text": "42 GB in 3 min", "wrap": True}
    assert context["text"] == "INFO · 2026-01-02 03:04:05 UTC"
    assert (context["isSubtle"], context["size"]) == (True, "small")
    assert "actions" not in card
    assert card["msteams"] == {"width": "Full"}


def test_rich_card_has_facts_buttons_mentions_and_context() -> None:
    card = card_of(build(rich_message(), channel(mentions=MENTIONS, tenant="acme")))
    texts = [b.get("text") for b in card["body"]]
    assert texts[1] == "<at>Ada Lovelace</at> <at>Bob</at>"
    [facts] = [b for b in card["body"] if b["type"] == "FactSet"]
    assert facts["facts"][0] == {"title": "Experiment", "value": "resnet50-imagenet"}
    assert len(facts["facts"]) == 6
    assert [(a["title"], a.get("style")) for a in card["actions"]] == [
        ("View run", "positive"),
        ("Stop sweep", "destructive"),
        ("Logs", None),
    ]
    assert all(a["type"] == "Action.OpenUrl" for a in card["actions"])
    assert texts[-1] == "ERROR · training.failed · 2026-01-02 03:04:05 UTC · tenant acme"
    assert card["msteams"]["entities"][1] == {
        "type": "mention",
        "text": "<at>Bob</at>",
        "mentioned": {"id": MENTIONS[1]["id"], "name": "Bob"},
    }


def test_hostile_message_fits_and_every_cut_shows_the_marker() -> None:
    message = hostile_message()
    envelope = build(message, channel(mentions=MENTIONS))
    assert_valid_card(envelope)
    assert size(envelope) <= LIMIT
    card = card_of(envelope)
    title = card["body"][0]
    assert (title["color"], title["size"], title["weight"]) == ("attention", "large", "bolder")
    assert title["text"] == message.title or title["text"].endswith(MARKER)
    body = card["body"][2]["text"]
    assert body == message.body or (body.endswith(MARKER) and message.body.startswith(body[:-1]))
    [factset] = [b for b in card["body"] if b["type"] == "FactSet"]
    facts = factset["facts"]
    trimmed = 0
    for fact, field in zip(facts, message.fields, strict=False):
        for shown, original in ((fact["title"], field.name), (fact["value"], field.value)):
            if shown != original:
                trimmed += 1
                assert shown.endswith(MARKER), shown
                assert original.startswith(shown[:-1].rstrip())
    assert trimmed, "the hostile message has over-long field names and values"
    notes = [b.get("text") for b in card["body"]]
    hidden = len(message.fields) - len(facts)
    if hidden:
        assert f"{MARKER} {hidden} more field{'s' if hidden > 1 else ''} not shown" in notes
    assert len(card["actions"]) == 6
    assert f"{MARKER} 24 more actions not shown" in notes
    for button, action in zip(card["actions"], message.actions, strict=False):
        assert button["url"] == action.url
        assert button["title"] == action.label or button["title"].endswith(MARKER)
        assert len(button["title"]) <= 75
    assert card["msteams"]["entities"], "critical: the configured people are mentioned"


def test_huge_body_and_500_fields_still_fit() -> None:
    message = Message(
        title="x" * 1000,
        body=hostile_text(100_000),
        severity="warning",
        fields=[Field(f"field {i}", hostile_text(600)) for i in range(500)],
        timestamp=TS,
    )
    envelope = build(message)
    assert_valid_card(envelope)
    card = card_of(envelope)
    assert card["body"][0]["text"] == "x" * 199 + MARKER
    assert card["body"][1]["text"].endswith(MARKER)
    [factset] = [b for b in card["body"] if b["type"] == "FactSet"]
    shown = len(factset["facts"])
    assert shown == 50
    assert all(len(f["value"]) <= 100 for f in factset["facts"]), "values squeezed first"
    notes = [b.get("text") for b in card["body"]]
    assert f"{MARKER} {500 - shown} more fields not shown" in notes
    assert size(envelope) > LIMIT - 200, "the room is used, not wasted"


def test_body_of_escapes_is_measured_as_sent() -> None:
    """Newlines and control characters take 2 and 6 bytes in JSON: still under 28 KB."""
    message = Message(title='"\\\n' * 100, body='\x01\n"\\' * 40_000, timestamp=TS)
    envelope = build(message)
    assert_valid_card(envelope)
    assert card_of(envelope)["body"][1]["text"].endswith(MARKER)


def test_500_short_fields_keep_fifty_with_a_note() -> None:
    message = Message(title="t", fields={f"k{i}": "v" for i in range(500)}, timestamp=TS)
    card = card_of(build(message))
    assert len(card["body"][1]["facts"]) == 50
    assert card["body"][2]["text"] == f"{MARKER} 450 more fields not shown"


@pytest.mark.parametrize(
    ("severity", "color", "font"),
    [
        ("info", "good", "medium"),
        ("warning", "warning", "medium"),
        ("error", "attention", "medium"),
        ("critical", "attention", "large"),
    ],
)
def test_title_style_follows_severity(severity: str, color: str, font: str) -> None:
    title = card_of(build(Message(title="t", severity=severity, timestamp=TS)))["body"][0]
    assert (title["color"], title["size"], title["weight"]) == (color, font, "bolder")


def test_resolved_is_good_news_and_says_so() -> None:
    message = Message(title="t", severity="critical", state="resolve", timestamp=TS)
    card = card_of(build(message))
    assert card["body"][0]["color"] == "good"
    assert card["body"][-1]["text"].startswith("CRITICAL · resolved · ")


@pytest.mark.parametrize(
    ("severity", "floor", "mentioned"),
    [
        ("warning", None, False),
        ("error", None, True),
        ("critical", None, True),
        ("info", "info", True),
        ("error", "critical", False),
    ],
)
def test_mentions_from_the_severity_floor(
    severity: str, floor: str | None, mentioned: bool
) -> None:
    settings_: dict[str, Any] = {"mentions": MENTIONS}
    if floor:
        settings_["mention_min_severity"] = floor
    envelope = build(Message(title="t", severity=severity, timestamp=TS), channel(**settings_))
    assert_valid_card(envelope)
    card = card_of(envelope)
    assert ("entities" in card["msteams"]) is mentioned
    assert ("<at>Bob</at>" in json.dumps(card["body"])) is mentioned


def test_full_width_can_be_turned_off() -> None:
    card = card_of(build(Message(title="t", timestamp=TS), channel(full_width=False)))
    assert "msteams" not in card


def test_unusable_button_urls_are_dropped_and_counted() -> None:
    actions = [
        Action("ok", "https://example.com/ok"),
        Action("long", "https://e.com/" + "a" * 3000),
    ]
    envelope = build(Message(title="t", actions=actions, timestamp=TS))
    assert_valid_card(envelope)
    card = card_of(envelope)
    assert [a["title"] for a in card["actions"]] == ["ok"]
    assert card["body"][-1]["text"] == f"{MARKER} 1 more action not shown"


def test_naive_timestamps_are_utc_not_local() -> None:
    message = Message(title="t", timestamp=datetime(2026, 1, 2, 3, 4, 5))
    assert card_of(build(message))["body"][-1]["text"].endswith("2026-01-02 03:04:05 UTC")


def test_build_is_pure() -> None:
    assert build(hostile_message()) == build(hostile_message())


def test_too_many_long_mentions_fail_cleanly_not_oversized() -> None:
    people = [{"name": "\x01" * 100, "id": "\x01" * 200} for _ in range(20)]
    ch = channel(mentions=people)
    with pytest.raises(PayloadError, match="28000-byte limit"):
        providers().build(ch, Message(title="t", severity="critical", timestamp=TS), "d")


texts = st.text(st.characters(codec="utf-8"), max_size=3000)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=texts,
    body=st.text(st.characters(codec="utf-8"), max_size=40_000),
    fields=st.lists(st.tuples(texts, texts), max_size=60),
    labels=st.lists(texts, max_size=10),
    severity=st.sampled_from(["info", "warning", "error", "critical"]),
)
def test_any_message_yields_a_valid_card_within_the_limit(
    title: str,
    body: str,
    fields: list[tuple[str, str]],
    labels: list[str],
    severity: str,
) -> None:
    message = Message(
        title=title,
        body=body,
        severity=severity,
        fields=fields,
        actions=[Action(label, f"https://example.com/{i}") for i, label in enumerate(labels)],
        timestamp=TS,
    )
    assert_valid_card(build(message, channel(mentions=MENTIONS)))


@pytest.mark.parametrize(
    ("settings_", "match"),
    [
        ({"mentions": "ada"}, "list"),
        ({"mentions": [{"name": "Ada"}]}, r"mentions\[0\]\.id"),
        ({"mentions": [{"id": "x"}]}, r"mentions\[0\]\.name"),
        ({"mentions": [{"name": "<b>", "id": "x"}]}, "must not contain"),
        ({"mentions": [{"name": "A", "id": "x", "role": "y"}]}, "unknown key 'role'"),
        ({"mentions": [{"name": "A", "id": "x"}] * 21}, "at most 20"),
        ({"mention_min_severity": "loud"}, "mention_min_severity"),
        ({"full_width": "yes"}, "full_width"),
        ({"mention": []}, "unknown key 'mention'"),
    ],
)
def test_bad_settings_are_refused_with_the_key(settings_: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidTarget, match=match):
        providers().validate(channel(**settings_))
