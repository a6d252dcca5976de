"""notify-slack end to end: the real CLI in a subprocess, a real server, a real store.

The channel keeps a real, fully validated Slack URL; ``NOTIFY_REROUTE`` (the core's
documented test seam) sends its requests to the local recorder instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from slack_sdk.models.blocks import Block

from notify_core.testing import Answer, RecordingServer, query, stored_bytes

SECRET = "XXXXSECRETXXXXXXXXXXXX"
PATH = f"/services/T000/B000/{SECRET}"
URL = f"https://hooks.slack.com{PATH}"


def setup(
    tmp_path: Path, recorder: RecordingServer, url: str = URL
) -> tuple[Path, Path, dict[str, str]]:
    config = tmp_path / "notify.toml"
    config.write_text(
        f"""
[channels.ml-slack]
provider = "slack"
url = "{url}"

[channels.ml-slack.settings]
mention_on_failure = true
"""
    )
    env = {"NOTIFY_REROUTE": f"https://hooks.slack.com={recorder.url}"}
    return config, tmp_path / "n.db", env


SEND = (
    "-t",
    "Training failed",
    "-b",
    "loss is **NaN**",
    "-s",
    "critical",
    "--event",
    "training.failed",
)
EXTRA = ("--field", "Run=r-42", "--action", "View run=https://ml.example.com/runs/42")


def assert_no_secret(*texts: str, db: Path) -> None:
    for text in texts:
        assert SECRET not in text
    assert SECRET.encode() not in stored_bytes(db)


def test_send_delivers_block_kit_to_the_webhook(recorder, notify_cli, tmp_path) -> None:
    config, db, env = setup(tmp_path, recorder)
    result = notify_cli(
        "send", "--config", str(config), "--db", str(db), "--to", "ml-slack", *SEND, *EXTRA, env=env
    )
    assert result.returncode == 0, result.stderr
    assert [r.path for r in recorder.requests] == [PATH]
    request = recorder.requests[0]
    assert request.method == "POST"
    assert request.header("Content-Type") == "application/json"
    body: dict[str, Any] = request.json()
    assert body["text"].startswith("<!channel> [CRITICAL] Training failed")
    assert body["blocks"][0]["text"]["text"] == "Training failed"
    assert body["blocks"][2]["text"]["text"] == "loss is *NaN*"
    assert body["blocks"][3]["fields"] == [{"type": "mrkdwn", "text": "*Run*\nr-42"}]
    assert body["blocks"][4]["elements"][0]["url"] == "https://ml.example.com/runs/42"
    for block in body["blocks"] + body["attachments"][0]["blocks"]:
        Block.parse(block).validate_json()

    [delivery] = query(db, "SELECT * FROM deliveries")
    assert (delivery["status"], delivery["attempts"], delivery["provider"]) == (
        "delivered",
        1,
        "slack",
    )
    assert delivery["target"] == "https://hooks.slack.com/services/T000/B000/****"
    assert request.header("Idempotency-Key") == delivery["id"]
    attempts = query(db, "SELECT number, http_status, outcome, error FROM attempts")
    assert attempts == [{"number": 1, "http_status": 200, "outcome": "delivered", "error": "ok"}]
    assert_no_secret(result.stdout, result.stderr, db=db)


def test_channel_not_found_fails_with_slacks_reason(recorder, notify_cli, tmp_path) -> None:
    recorder.script(Answer(404, "channel_not_found"))
    config, db, env = setup(tmp_path, recorder)
    result = notify_cli(
        "send", "--config", str(config), "--db", str(db), "--to", "ml-slack", *SEND, env=env
    )
    assert result.returncode == 1
    assert "channel_not_found" in result.stdout
    assert len(recorder.requests) == 1  # permanent: not retried
    [delivery] = query(db, "SELECT status, attempts, last_error, last_status FROM deliveries")
    assert delivery == {
        "status": "failed",
        "attempts": 1,
        "last_error": "channel_not_found",
        "last_status": 404,
    }
    [state] = query(db, "SELECT consecutive_failures FROM channel_state WHERE channel = 'ml-slack'")
    assert state["consecutive_failures"] == 1  # a gone webhook counts toward auto-disable
    assert_no_secret(result.stdout, result.stderr, db=db)


def test_rate_limit_is_retried_then_delivered(recorder, notify_cli, tmp_path) -> None:
    recorder.script(Answer(429, "rate_limited", headers={"Retry-After": "0"}))
    config, db, env = setup(tmp_path, recorder)
    result = notify_cli(
        "send", "--config", str(config), "--db", str(db), "--to", "ml-slack", *SEND, env=env
    )
    assert result.returncode == 0, result.stderr
    assert len(recorder.requests) == 2
    attempts = query(db, "SELECT number, http_status, outcome, error FROM attempts ORDER BY number")
    assert [(a["http_status"], a["outcome"], a["error"]) for a in attempts] == [
        (429, "retry", "rate_limited"),
        (200, "delivered", "ok"),
    ]


def test_adhoc_url_infers_slack(recorder, notify_cli, tmp_path) -> None:
    env = {"NOTIFY_REROUTE": f"https://hooks.slack.com={recorder.url}"}
    db = tmp_path / "n.db"
    result = notify_cli("send", "--url", URL, "--db", str(db), "-t", "Backup done", env=env)
    assert result.returncode == 0, result.stderr
    assert [r.path for r in recorder.requests] == [PATH]
    assert recorder.requests[0].json()["text"] == "Backup done"
    assert_no_secret(result.stdout, result.stderr, db=db)


def test_dry_run_prints_the_exact_payload_masked(recorder, notify_cli, tmp_path) -> None:
    config, db, env = setup(tmp_path, recorder)
    result = notify_cli(
        "send",
        "--config",
        str(config),
        "--db",
        str(db),
        "--to",
        "ml-slack",
        *SEND,
        *EXTRA,
        "--dry-run",
        "--json",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    [planned] = json.loads(result.stdout)
    assert planned["provider"] == "slack"
    assert planned["target"] == "https://hooks.slack.com/services/T000/B000/****"
    body = planned["payload"]["body"]
    assert body["blocks"][0]["text"]["text"] == "Training failed"
    assert body["text"].startswith("<!channel> ")
    assert SECRET not in result.stdout + result.stderr
    assert recorder.requests == []
    assert not db.exists()


def test_wrong_url_is_a_usage_error_naming_the_shape(recorder, notify_cli, tmp_path) -> None:
    bad = f"https://hooks.slack.com/services/T000/{SECRET}"
    config, db, env = setup(tmp_path, recorder, url=bad)
    result = notify_cli(
        "send", "--config", str(config), "--db", str(db), "--to", "ml-slack", "-t", "x", env=env
    )
    assert result.returncode == 1  # recorded as failed, with the shape in the reason
    [line] = result.stdout.strip().splitlines()
    assert line.startswith("failed")
    assert "https://hooks.slack.com/services/T…/B…/****" in line
    assert SECRET not in result.stderr + result.stdout
    assert SECRET.encode() not in stored_bytes(db)
    assert recorder.requests == []

    adhoc = notify_cli(
        "send", "--url", "https://hooks.slack.com/services/T000/B000/bad!", "-t", "x", env=env
    )
    assert adhoc.returncode == 2
    assert len(adhoc.stderr.strip().splitlines()) == 1
    assert "https://hooks.slack.com/triggers/T…/<id>/****" in adhoc.stderr
