"""notify-pagerduty payloads: golden files, PagerDuty's schema and limits, dedup keys.

Regenerate the golden files with ``NOTIFY_UPDATE_GOLDEN=1 pytest tests/pagerduty``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from notify_core import Action, Channel, Field, Message, Notifier, Providers
from notify_core.plugin import MARKER, Payload
from notify_core.testing import check_golden
from notify_pagerduty import CHANGE_URLS, ENQUEUE_URLS

GOLDEN = Path(__file__).parent / "golden"
#: A well-formed, fake routing key: the secret every test hunts for in outputs.
ROUTING_KEY = "R0utingKeyF0rTests0nly1234567abc"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def channel(**kw: Any) -> Channel:
    options = {"routing_key": ROUTING_KEY, **kw.pop("options", {})}
    return Channel(name="oncall", provider="pagerduty", options=options, **kw)


def small() -> Message:
    return Message(title="Backup done", timestamp=WHEN)


def rich() -> Message:
    return Message(
        title="Training failed",
        body="Run **42** diverged at step 1200.\n\n- loss: `NaN`\n- lr: 3e-4",
        event="training.failed",
        severity="error",
        fields=[
            Field("accuracy", "0.12"),
            Field("component", "trainer"),
            Field("host", "gpu-node-7"),
        ],
        actions=[
            Action("Open run", "https://ml.example.com/runs/42", "primary"),
            Action("Logs", "https://logs.example.com/q?run=42"),
        ],
        tags=("ml", "nightly"),
        data={"run_id": 42, "source": "gpu-node-7.example.com", "metrics": {"loss": None}},
        timestamp=WHEN,
    )


def hostile() -> Message:
    title = ('🔥 Ünïcödé **bold** `code` <b>html</b> & "quotes" ' * 8)[:200]
    body = ("# Heading\n\n**Bold** _it_ `x` [link](https://e.com) → ✓ 日本語 🚀\n> quote\n" * 80)[
        :5000
    ]
    fields = [Field(f"field {i} ✓", f"value {i} " + "é" * 40) for i in range(25)]
    actions = [Action(f"Action {i} 🚀", f"https://example.com/a/{i}?q=é") for i in range(30)]
    return Message(
        title=title,
        body=body,
        event="chaos.hostile",
        severity="critical",
        fields=fields,
        actions=actions,
        timestamp=WHEN,
    )


MESSAGES = {
    "small": (small, {}),
    "rich": (rich, {"settings": {"group": "ml-platform", "class": "training"}}),
    "hostile": (hostile, {}),
}


def record(payload: Payload) -> dict[str, Any]:
    return {"url": payload.url, "body": payload.body}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_golden(providers: Providers, check_event: Any, name: str) -> None:
    make, kw = MESSAGES[name]
    payload = providers.build(channel(**kw), make(), "dly_1")
    check_event(payload.body)
    check_golden(GOLDEN / f"{name}.json", record(payload))


def test_hostile_message_passes_and_every_trimmed_part_shows_the_marker(
    providers: Providers, check_event: Any
) -> None:
    message = hostile()
    event = providers.build(channel(), message, "dly_1").body
    check_event(event)
    payload = event["payload"]
    assert payload["severity"] == "critical"
    # the summary is the one part that had to be cut: it ends with the marker
    assert len(payload["summary"]) <= 1024
    assert payload["summary"].endswith(MARKER)
    assert payload["summary"].startswith(" ".join(message.title.split()) + " — ")
    # nothing else was cut: all fields, the whole body, all links
    details = payload["custom_details"]
    assert [details[f.name] for f in message.fields] == [f.value for f in message.fields]
    assert details["body"] == message.body
    assert [link["href"] for link in event["links"]] == [a.url for a in message.actions]


def test_building_is_pure(providers: Providers) -> None:
    first = providers.build(channel(), rich(), "a").content()
    assert providers.build(channel(), rich(), "a").content() == first
    assert providers.build(channel(), rich(), "b").content() == first  # no per-try data


@pytest.mark.parametrize("severity", ["info", "warning", "error", "critical"])
def test_severity_maps_to_pagerduty_names(providers: Providers, severity: str) -> None:
    event = providers.build(channel(), Message(title="x", severity=severity), "d").body
    assert event["payload"]["severity"] == severity


@pytest.mark.parametrize("state", ["acknowledge", "resolve"])
def test_trigger_and_follow_up_share_the_derived_dedup_key(
    providers: Providers, check_event: Any, state: str
) -> None:
    trigger = Message(title="GPU node down", event="node.down", severity="critical")
    follow = Message(title="GPU node down", event="node.down", state=state, body="fixed")
    sent = [providers.build(channel(), m, "d").body for m in (trigger, follow)]
    for event in sent:
        check_event(event)
    assert sent[0]["dedup_key"] == sent[1]["dedup_key"] == "node.down:GPU node down"
    assert sent[1] == {
        "routing_key": ROUTING_KEY,
        "event_action": state,
        "dedup_key": "node.down:GPU node down",
    }


def test_explicit_dedup_key_wins_and_long_keys_stay_stable_and_distinct(
    providers: Providers, check_event: Any
) -> None:
    assert providers.build(channel(), Message(title="t", dedup_key="run-42"), "d").body[
        "dedup_key"
    ] == ("run-42")
    long_a, long_b = "k" * 300 + "a", "k" * 300 + "b"
    keys = []
    for key, state in ((long_a, "trigger"), (long_a, "resolve"), (long_b, "trigger")):
        event = providers.build(channel(), Message(title="t", dedup_key=key, state=state), "d")
        check_event(event.body)
        keys.append(event.body["dedup_key"])
    assert keys[0] == keys[1] != keys[2]
    assert all(len(k) <= 255 and MARKER in k for k in keys)


def test_settings_event_action_overrides_the_message_state(
    providers: Providers, check_event: Any
) -> None:
    ch = channel(settings={"event_action": "resolve"})
    event = providers.build(ch, Message(title="Disk full", dedup_key="disk"), "d").body
    check_event(event)
    assert event["event_action"] == "resolve"
    assert event["dedup_key"] == "disk"


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        ("Backup done", "", "Backup done"),
        ("Backup done", "42 GB\n  in  3 min", "Backup done — 42 GB in 3 min"),
        ("  Spaced\ttitle ", "", "Spaced title"),
        ("", "only a body", "only a body"),
        ("", "", "(no title)"),
    ],
)
def test_summary_is_one_line_of_title_and_body(
    providers: Providers, title: str, body: str, expected: str
) -> None:
    event = providers.build(channel(), Message(title=title, body=body), "d").body
    assert event["payload"]["summary"] == expected


def test_long_title_and_body_are_trimmed_with_the_marker(providers: Providers) -> None:
    long_title = providers.build(channel(), Message(title="t" * 2000, body="b"), "d").body
    assert long_title["payload"]["summary"] == "t" * 1023 + MARKER
    no_room = providers.build(channel(), Message(title="t" * 1010, body="body text"), "d").body
    assert no_room["payload"]["summary"] == "t" * 1010  # the body is in custom_details
    some_room = providers.build(channel(), Message(title="t" * 900, body="b" * 500), "d").body
    summary = some_room["payload"]["summary"]
    assert len(summary) == 1024
    assert summary.endswith("b" + MARKER)


def test_attributes_come_from_settings_then_fields_then_data(providers: Providers) -> None:
    message = Message(
        title="x",
        fields={"component": "field-c", "group": "field-g", "source": "field-s", "other": "o"},
        data={"class": "data-k", "group": "data-g", "source": "data-s"},
    )
    ch = channel(settings={"component": "set-c"})
    payload = providers.build(ch, message, "d").body["payload"]
    assert (payload["component"], payload["group"], payload["class"], payload["source"]) == (
        "set-c",
        "field-g",
        "data-k",
        "field-s",
    )
    # fields shown as attributes are not repeated; the one the setting beat is kept
    assert payload["custom_details"]["component"] == "field-c"
    assert "group" not in payload["custom_details"]
    assert "source" not in payload["custom_details"]
    bare = providers.build(channel(), Message(title="x"), "d").body["payload"]
    assert bare["source"] == "notify"
    assert "custom_details" not in bare
    assert not {"component", "group", "class"} & set(bare)


def test_custom_details_never_overwrite_each_other(providers: Providers) -> None:
    message = Message(
        title="x",
        body="the body",
        fields=[Field("host", "a"), Field("host", "b"), Field("body", "a field")],
        data={"k": datetime(2026, 1, 1, tzinfo=timezone.utc)},
    )
    details = providers.build(channel(), message, "d").body["payload"]["custom_details"]
    assert details == {
        "host": "a",
        "host (2)": "b",
        "body": "a field",
        "body (2)": "the body",
        "data": {"k": "2026-01-01 00:00:00+00:00"},
    }


def test_naive_timestamps_are_taken_as_utc(providers: Providers) -> None:
    message = Message(title="x", timestamp=datetime(2026, 1, 2, 3, 4, 5))
    payload = providers.build(channel(), message, "d").body["payload"]
    assert payload["timestamp"] == "2026-01-02T03:04:05+00:00"


def test_oversized_details_are_cut_to_512_kb_with_markers(
    providers: Providers, check_event: Any
) -> None:
    message = Message(
        title="Crash",
        body="x" * 50_000,
        fields={"small": "kept as is"},
        data={"log": 'é"\n' * 300_000, "nested": {"trace": "t" * 400_000, "n": 7}},
    )
    payload = providers.build(channel(), message, "d")  # the core's 512 KB check passes
    event = payload.body
    check_event(event)
    size = len(payload.content())
    assert 500 * 1024 < size <= 512 * 1024  # cut only as much as needed
    details = event["payload"]["custom_details"]
    assert details["small"] == "kept as is"
    assert details["data"]["nested"]["n"] == 7
    for cut in (details["data"]["log"], details["data"]["nested"]["trace"]):
        assert cut.endswith(MARKER)
    assert details["body"] == "x" * 50_000  # shorter than the cap: left whole


def test_too_many_details_are_dropped_with_a_note(providers: Providers, check_event: Any) -> None:
    fields = [Field(f"k{i:05}", "v" * 20) for i in range(30_000)]
    event = providers.build(channel(), Message(title="x", fields=fields), "d").body
    check_event(event)
    details = event["payload"]["custom_details"]
    assert details["k00000"] == "v" * 20
    note = details[MARKER]
    assert note.startswith(MARKER) and "more details left out" in note
    assert len(details) > 10_000  # as many as fit, not a blunt half


def test_too_many_links_are_dropped_with_a_note(providers: Providers, check_event: Any) -> None:
    actions = [Action(f"a{i}", f"https://example.com/{'p' * 100}/{i}") for i in range(6000)]
    event = providers.build(channel(), Message(title="x", actions=actions), "d").body
    check_event(event)
    assert 0 < len(event["links"]) < 6000
    assert event["payload"]["custom_details"]["links"].startswith(MARKER)


@pytest.mark.parametrize("region", ["us", "eu"])
def test_change_events_go_to_the_change_endpoint(
    providers: Providers, check_event: Any, region: str
) -> None:
    ch = channel(options={"region": region}, settings={"change_event": True, "source": "ci"})
    payload = providers.build(ch, rich(), "d")
    assert payload.url == CHANGE_URLS[region]
    check_event(payload.body, "/change/enqueue")
    assert set(payload.body) == {"routing_key", "payload", "links"}
    assert payload.body["payload"]["source"] == "ci"
    resolved = providers.build(ch, Message(title="Rolled back", state="resolve"), "d").body
    check_event(resolved, "/change/enqueue")
    assert resolved["payload"]["custom_details"] == {"state": "resolve"}


def test_alert_events_use_the_regions_endpoint(providers: Providers) -> None:
    ch = channel(options={"region": "eu"})
    assert providers.build(ch, small(), "d").url is None  # the target's own URL
    assert providers.validate(ch).url == ENQUEUE_URLS["eu"]


def test_dry_run_shows_the_event_with_the_key_masked(providers: Providers, tmp_path: Path) -> None:
    notifier = Notifier([channel()], providers=providers, db=tmp_path / "n.db")
    [planned] = notifier.plan(rich())
    text = json.dumps(planned.payload)
    assert ROUTING_KEY not in text and ROUTING_KEY not in planned.target
    assert planned.payload["body"]["routing_key"] == "****" + ROUTING_KEY[-4:]
    assert planned.target == f"{ENQUEUE_URLS['us']} (routing key ****{ROUTING_KEY[-4:]})"
    assert planned.payload["body"]["payload"]["summary"].startswith("Training failed — Run")
    assert not (tmp_path / "n.db").exists()
