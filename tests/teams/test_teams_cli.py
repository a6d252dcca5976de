"""notify-teams end to end: the real CLI in a subprocess, a real server, a real SQLite file.

The channel keeps its real Workflows URL (validated as users' URLs are); the documented
test seam ``NOTIFY_REROUTE`` sends its origin to the local recorder. httpx drops the
default port, so the ``:443`` in the URL and in the seam both mean the same origin.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from notify_core.testing import Answer, RecordingServer, query, stored_bytes

SIG = "SECRETSIGNATUREVALUE123456789"
ORIGIN = "https://prod-00.westeurope.logic.azure.com:443"
PATH = "/workflows/abc123/triggers/manual/paths/invoke"
URL = f"{ORIGIN}{PATH}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIG}"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "notify.toml"
    path.write_text(
        f"""
[channels.ml-teams]
provider = "teams"
url = "{URL}"
retry = {{ attempts = 2, backoff = 0.01, max_delay = 0.05 }}
settings = {{ mentions = [{{ name = "Ada", id = "ada@example.com" }}] }}
"""
    )
    return path


def send(notify_cli: Any, recorder: RecordingServer, tmp_path: Path, *extra: str) -> Any:
    return notify_cli(
        "send",
        "-t",
        "Training failed",
        "-b",
        "loss is **nan**",
        "-s",
        "error",
        "--field",
        "epoch=12",
        "--action",
        "View run=https://ml.example.com/runs/7",
        "--to",
        "ml-teams",
        "--db",
        str(tmp_path / "n.db"),
        *extra,
        env={"NOTIFY_REROUTE": f"{ORIGIN}={recorder.url}"},
    )


def assert_no_secret(tmp_path: Path, *outputs: str) -> None:
    for text in outputs:
        assert SIG not in text
    assert SIG.encode() not in stored_bytes(tmp_path / "n.db")


def test_a_card_is_delivered_through_the_cli(
    recorder: RecordingServer, notify_cli: Any, tmp_path: Path, config: Path
) -> None:
    recorder.script(Answer(202, b"", headers={"x-ms-workflow-run-id": "08584-run"}))
    result = send(notify_cli, recorder, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("delivered ml-teams  teams  1 attempt  HTTP 202")
    [request] = recorder.requests
    assert request.method == "POST"
    assert request.path == URL.removeprefix(ORIGIN), "path and query (with sig) kept"
    assert request.header("Content-Type") == "application/json"
    card = request.json()["attachments"][0]["content"]
    assert card["body"][0]["text"] == "Training failed"
    assert card["body"][1]["text"] == "<at>Ada</at>"
    assert card["body"][2]["text"] == "loss is **nan**"
    assert card["body"][3]["facts"] == [{"title": "epoch", "value": "12"}]
    assert card["actions"][0]["url"] == "https://ml.example.com/runs/7"
    assert card["msteams"]["entities"][0]["mentioned"]["id"] == "ada@example.com"
    [delivery] = query(tmp_path / "n.db", "SELECT * FROM deliveries")
    assert (delivery["status"], delivery["attempts"], delivery["provider"]) == (
        "delivered",
        1,
        "teams",
    )
    assert request.header("Idempotency-Key") == delivery["id"]
    assert str(delivery["target"]).endswith("&sig=****6789")
    assert json.loads(str(delivery["meta"])) == {"workflow_run_id": "08584-run"}
    attempts = query(tmp_path / "n.db", "SELECT * FROM attempts")
    assert [(a["number"], a["http_status"], a["outcome"]) for a in attempts] == [
        (1, 202, "delivered")
    ]
    assert_no_secret(tmp_path, result.stdout, result.stderr)


def test_a_400_fails_with_the_workflows_reason(
    recorder: RecordingServer, notify_cli: Any, tmp_path: Path, config: Path
) -> None:
    error = {"error": {"code": "InvalidRequestContent", "message": f"bad body; sig={SIG}"}}
    recorder.script(Answer(400, json.dumps(error), headers={"Content-Type": "application/json"}))
    result = send(notify_cli, recorder, tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("failed    ml-teams  teams  1 attempt  HTTP 400: ")
    assert "InvalidRequestContent: bad body; sig=****6789" in result.stdout
    assert len(recorder.requests) == 1, "a 400 is not retried"
    [delivery] = query(tmp_path / "n.db", "SELECT * FROM deliveries")
    assert (delivery["status"], delivery["attempts"]) == ("failed", 1)
    assert str(delivery["last_error"]).startswith("HTTP 400: InvalidRequestContent: bad body")
    [attempt] = query(tmp_path / "n.db", "SELECT * FROM attempts")
    assert (attempt["http_status"], attempt["outcome"]) == (400, "failed")
    assert_no_secret(tmp_path, result.stdout, result.stderr)


def test_dry_run_json_prints_the_exact_payload_masked(
    recorder: RecordingServer, notify_cli: Any, tmp_path: Path, config: Path
) -> None:
    result = send(notify_cli, recorder, tmp_path, "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    assert SIG not in result.stdout
    [planned] = json.loads(result.stdout)
    assert planned["provider"] == "teams"
    assert planned["target"] == URL.replace(SIG, "****6789")
    body = planned["payload"]["body"]
    assert body["type"] == "message"
    card = body["attachments"][0]["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.2")
    assert card["body"][0]["color"] == "attention"
    assert recorder.requests == [], "a dry run sends nothing"
    assert not (tmp_path / "n.db").exists() or not query(
        tmp_path / "n.db", "SELECT * FROM deliveries"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d-secretpart",
            "Microsoft retired Office 365 connectors",
        ),
        (
            f"https://example.com{PATH}?api-version=1&sig={SIG}",
            "teams url must be a Power Automate Workflows URL",
        ),
    ],
)
def test_a_wrong_url_exits_2_with_one_line(
    notify_cli: Any, tmp_path: Path, url: str, expected: str
) -> None:
    result = notify_cli("send", "--url", url, "--provider", "teams", "-t", "x")
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert expected in line
    assert SIG not in line and "secretpart" not in line
