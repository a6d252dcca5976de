"""notify-pagerduty end to end: the real CLI in a subprocess, a real HTTP server standing in
for events.pagerduty.com (through the core's NOTIFY_REROUTE test seam), a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from notify_core import Message, Notifier
from notify_core.testing import Answer, RecordingServer, query, stored_bytes

ROUTING_KEY = "R0utingKeyF0rTests0nly1234567abc"
PAGERDUTY = "https://events.pagerduty.com"
CONFIG = """
[channels.oncall]
provider = "pagerduty"
routing_key = "${PD_KEY}"
"""


def accepted(dedup_key: str) -> Answer:
    body = {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
    return Answer(202, json.dumps(body), headers={"Content-Type": "application/json"})


@pytest.fixture
def setup(tmp_path: Path, recorder: RecordingServer) -> dict[str, str]:
    """A notify.toml with one PagerDuty channel; the env that points it at the recorder."""
    (tmp_path / "notify.toml").write_text(CONFIG)
    return {"PD_KEY": ROUTING_KEY, "NOTIFY_REROUTE": f"{PAGERDUTY}={recorder.url}"}


def assert_key_never_shown(tmp_path: Path, *outputs: Any) -> None:
    for result in outputs:
        assert ROUTING_KEY not in result.stdout + result.stderr
    db = tmp_path / "n.db"
    if db.exists():
        assert ROUTING_KEY.encode() not in stored_bytes(db)


def test_trigger_is_delivered_and_a_resolve_finds_it(
    recorder: RecordingServer,
    notify_cli: Any,
    tmp_path: Path,
    setup: dict[str, str],
    check_event: Any,
) -> None:
    recorder.script(accepted("abc"), accepted("abc"), path="/v2/enqueue")
    db = tmp_path / "n.db"
    sent = notify_cli(
        "send", "--to", "oncall", "--db", str(db),
        "-t", "GPU node down", "-b", "node 7 stopped answering", "-s", "critical",
        "--dedup-key", "node-7", "--field", "host=gpu-node-7",
        "--action", "Grafana=https://grafana.example.com/d/7",
        env=setup,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert sent.stdout.startswith("delivered")
    [request] = recorder.to("/v2/enqueue")
    event = request.json()
    check_event(event)
    assert (event["routing_key"], event["event_action"], event["dedup_key"]) == (
        ROUTING_KEY,
        "trigger",
        "node-7",
    )
    assert event["payload"]["summary"] == "GPU node down — node 7 stopped answering"
    assert event["payload"]["severity"] == "critical"
    assert event["payload"]["custom_details"]["host"] == "gpu-node-7"
    assert event["links"] == [{"href": "https://grafana.example.com/d/7", "text": "Grafana"}]

    [delivery] = query(db, "SELECT id, status, attempts, meta, target FROM deliveries")
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 1)
    assert json.loads(str(delivery["meta"])) == {"dedup_key": "abc"}
    assert delivery["target"] == f"{PAGERDUTY}/v2/enqueue (routing key ****{ROUTING_KEY[-4:]})"
    assert request.header("Idempotency-Key") == delivery["id"]
    attempts = query(db, "SELECT number, http_status, outcome FROM attempts")
    assert [(a["number"], a["http_status"], a["outcome"]) for a in attempts] == [
        (1, 202, "delivered")
    ]

    # `notify send` has no --state flag: resolve through the library, same config and store
    with Notifier.from_config(
        tmp_path / "notify.toml", db=db, env=setup, reroute={PAGERDUTY: recorder.url}
    ) as notifier:
        result = notifier.send(Message(title="GPU node down", dedup_key="node-7", state="resolve"))
    assert result.ok, result
    trigger, resolve = (r.json() for r in recorder.to("/v2/enqueue"))
    check_event(resolve)
    assert resolve == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "node-7"}
    assert trigger["dedup_key"] == resolve["dedup_key"]
    assert_key_never_shown(tmp_path, sent)


def test_bad_request_fails_with_pagerdutys_errors(
    recorder: RecordingServer, notify_cli: Any, tmp_path: Path, setup: dict[str, str]
) -> None:
    invalid = {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"],
    }
    recorder.script(Answer(400, json.dumps(invalid)), path="/v2/enqueue")
    db = tmp_path / "n.db"
    result = notify_cli("send", "--to", "oncall", "-t", "x", "--db", str(db), env=setup)
    assert result.returncode == 1
    expected = "Event object is invalid: Length of 'routing_key' is incorrect"
    assert expected in result.stdout
    assert len(recorder.requests) == 1  # a 400 is never retried
    [delivery] = query(db, "SELECT status, attempts, last_error FROM deliveries")
    assert (delivery["status"], delivery["attempts"]) == ("failed", 1)
    assert expected in str(delivery["last_error"])
    assert_key_never_shown(tmp_path, result)


def test_a_wrong_key_in_a_channel_fails_its_delivery_with_the_reason(
    recorder: RecordingServer, notify_cli: Any, tmp_path: Path, setup: dict[str, str]
) -> None:
    db = tmp_path / "n.db"
    result = notify_cli(
        "send", "-t", "x", "--to", "oncall", "--db", str(db), env={**setup, "PD_KEY": "R0utingKey"}
    )
    assert result.returncode == 1, result.stdout + result.stderr
    expected = (
        "notify.toml: channels.oncall.routing_key: pagerduty routing_key **** must be 32 "
        "letters or digits, the integration key of an Events API V2 integration "
        "(got 10 characters)"
    )
    assert expected in result.stdout
    assert "R0utingKey" not in result.stdout + result.stderr
    assert recorder.requests == []
    [row] = query(db, "SELECT status, last_error FROM deliveries")
    assert row["status"] == "failed" and row["last_error"] == expected


def test_an_adhoc_url_without_a_key_is_one_line_and_exit_2(
    recorder: RecordingServer, notify_cli: Any, tmp_path: Path, setup: dict[str, str]
) -> None:
    result = notify_cli(
        "send",
        "-t",
        "x",
        "--url",
        f"{PAGERDUTY}/v2/enqueue",
        "--db",
        str(tmp_path / "n.db"),
        env=setup,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "pagerduty channel needs routing_key" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert ROUTING_KEY not in result.stderr
    assert recorder.requests == []
    assert not (tmp_path / "n.db").exists()


def test_dry_run_prints_the_exact_event_with_the_key_masked(
    recorder: RecordingServer,
    notify_cli: Any,
    tmp_path: Path,
    setup: dict[str, str],
    check_event: Any,
) -> None:
    result = notify_cli(
        "send", "--to", "oncall", "--dry-run", "--json", "--db", str(tmp_path / "n.db"),
        "-t", "Disk full", "-s", "warning", "--event", "disk.full",
        env=setup,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [planned] = json.loads(result.stdout)
    masked = "****" + ROUTING_KEY[-4:]
    assert planned["provider"] == "pagerduty"
    assert planned["target"] == f"{PAGERDUTY}/v2/enqueue (routing key {masked})"
    body = planned["payload"]["body"]
    assert body["routing_key"] == masked
    check_event({**body, "routing_key": ROUTING_KEY})  # the rest is exactly what is sent
    assert body["dedup_key"] == "disk.full:Disk full"
    assert body["payload"]["severity"] == "warning"
    assert recorder.requests == []
    assert not (tmp_path / "n.db").exists()
    assert_key_never_shown(tmp_path, result)


def test_an_adhoc_url_takes_the_key_as_an_option(
    recorder: RecordingServer, notify_cli: Any, tmp_path: Path, check_event: Any
) -> None:
    recorder.script(accepted("disk"), path="/v2/enqueue")
    db = tmp_path / "n.db"
    sent = notify_cli(
        "send", "--url", f"{PAGERDUTY}/v2/enqueue", "--option", f"routing_key={ROUTING_KEY}",
        "--setting", "source=db-1", "--setting", "change_event=false",
        "-t", "Disk full", "-s", "error", "--dedup-key", "disk", "--db", str(db), "--json",
        env={"NOTIFY_REROUTE": f"{PAGERDUTY}={recorder.url}"},
    )  # fmt: skip
    assert sent.returncode == 0, sent.stdout + sent.stderr
    [delivery] = json.loads(sent.stdout)["deliveries"]
    assert (delivery["channel"], delivery["status"]) == ("adhoc:pagerduty", "delivered")
    [request] = recorder.requests
    event = request.json()
    check_event(event)
    assert (event["routing_key"], event["payload"]["source"]) == (ROUTING_KEY, "db-1")
    [row] = query(db, "SELECT target FROM deliveries")
    assert row["target"] == f"{PAGERDUTY}/v2/enqueue (routing key ****{ROUTING_KEY[-4:]})"
    assert_key_never_shown(tmp_path, sent)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--option", f"routing_ky={ROUTING_KEY}"), "--option 'routing_ky': pagerduty channels "
         "have no such key (known: routing_key, region)"),
        (("--option", ROUTING_KEY), "--option: expected KEY=VALUE (the value is not shown"),
        (("--option", f"routing_key={ROUTING_KEY}", "--setting", "sorce=db-1"),
         "pagerduty settings: unknown key 'sorce': did you mean 'source'? (known: source, "
         "component, group, class, "
         "event_action, change_event)"),
        (("--setting", "source=x", "--to", "oncall"), "--url and --to cannot be combined"),
    ],
)  # fmt: skip
def test_adhoc_options_and_settings_are_checked(
    recorder: RecordingServer, notify_cli: Any, tmp_path: Path, args: tuple[str, ...], error: str
) -> None:
    db = tmp_path / "n.db"
    result = notify_cli(
        "send", "--url", f"{PAGERDUTY}/v2/enqueue", *args, "-t", "x", "--db", str(db),
        env={"NOTIFY_REROUTE": f"{PAGERDUTY}={recorder.url}"},
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"notify: error: {error}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert recorder.requests == []
    assert_key_never_shown(tmp_path, result)


def test_options_need_an_adhoc_url(notify_cli: Any, tmp_path: Path, setup: dict[str, str]) -> None:
    for flag, value in (("--option", "region=eu"), ("--setting", "source=x")):
        result = notify_cli("send", "--to", "oncall", flag, value, "-t", "x", env=setup)
        assert result.returncode == 2
        assert result.stderr == f"notify: error: {flag} goes with --url\n"
