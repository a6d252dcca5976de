"""The issue's "done when": installed, listed by ``notify plugins``, and delivering an embed.

The package must be installed in the environment running the tests (nox's tests session
installs it; by hand: ``pip install -e ./examples/notify_discord``). The ``notify``
command runs in a subprocess, finds the plugin through its entry point, and sends to a
real Discord-shaped URL that ``NOTIFY_REROUTE`` points at the kit's recording server.
"""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from notify_core.testing import Answer, RecordingServer, query, stored_bytes

pytest_plugins = ["notify_core.testing"]

TOKEN = "dIsCoRdToKeN_0123456789-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
PATH = f"/api/webhooks/123456789012345678/{TOKEN}"
URL = f"https://discord.com{PATH}"


@pytest.fixture(autouse=True)
def _installed() -> None:
    names = {ep.name for ep in entry_points(group="notify_core.providers")}
    assert "discord" in names, (
        "notify-discord is not installed in this environment: "
        "pip install -e ./examples/notify_discord (nox's tests session does it)"
    )


def test_notify_plugins_lists_discord(notify_cli) -> None:
    result = notify_cli("plugins", "--json")
    assert result.returncode == 0, result.stderr
    [discord] = [p for p in json.loads(result.stdout) if p["provider"] == "discord"]
    assert (discord["distribution"], discord["version"]) == ("notify-discord", "0.1.0")
    assert "rich" in discord["capabilities"]


def test_send_delivers_an_embed(notify_cli, recorder: RecordingServer, tmp_path: Path) -> None:
    recorder.script(Answer(204, b""))
    config = tmp_path / "notify.toml"
    config.write_text(
        f'[channels.ml-discord]\nprovider = "discord"\nurl = "{URL}"\n', encoding="utf-8"
    )
    db = tmp_path / "notify.db"
    result = notify_cli(
        *("send", "--config", str(config), "--db", str(db), "--to", "ml-discord"),
        *("-t", "Training failed", "-b", "loss is **NaN**", "-s", "error"),
        *("--field", "Run=r-42", "--action", "View run=https://ml.example.com/runs/42"),
        env={"NOTIFY_REROUTE": f"https://discord.com={recorder.url}"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("delivered ml-discord")
    [request] = recorder.requests
    assert (request.method, request.path) == ("POST", PATH)
    [embed] = request.json()["embeds"]
    assert embed["title"] == "Training failed"
    assert embed["url"] == "https://ml.example.com/runs/42"
    assert embed["color"] == 0xE01E5A
    assert embed["fields"] == [{"name": "Run", "value": "r-42", "inline": True}]
    [row] = query(db, "SELECT status, target FROM deliveries")
    assert row == {"status": "delivered", "target": URL.replace(TOKEN, "****")}
    assert TOKEN not in result.stdout + result.stderr
    assert TOKEN.encode() not in stored_bytes(db)


def test_an_ad_hoc_url_is_recognised_as_discord(notify_cli, recorder: RecordingServer) -> None:
    recorder.script(Answer(204, b""))
    result = notify_cli(
        *("send", "--url", URL, "-t", "Backup done", "--db", "adhoc.db"),
        env={"NOTIFY_REROUTE": f"https://discord.com={recorder.url}"},
    )
    assert result.returncode == 0, result.stderr
    assert recorder.requests[0].json()["embeds"][0]["title"] == "Backup done"
