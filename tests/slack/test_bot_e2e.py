"""Slack bot mode end to end: the real CLI and workers in subprocesses, a real store, and
a fake Slack Web API (``conftest.py``) that answers as Slack does.

Threads span processes: the ``ts`` of a thread's first message lives in the store, so a
reply sent by another CLI invocation or a worker finds it, and a follow-up sent while
the first message is still on its way waits for it instead of starting a second thread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from notify_core.testing import Answer, query, stored_bytes

TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
CHANNEL = "C0123ABCD"
CLI = [sys.executable, "-c", "import sys; from notify_core._cli import main; sys.exit(main())"]


def config(tmp_path: Path, settings: str = "", notify: str = "") -> Path:
    path = tmp_path / "notify.toml"
    path.write_text(
        f"""
[notify]
db = "n.db"
{notify}

[channels.ml-bot]
provider = "slack"
token = "${{SLACK_BOT_TOKEN}}"
channel = "{CHANNEL}"

[channels.ml-bot.settings]
{settings}
"""
    )
    return path


def env(slack_api: Any) -> dict[str, str]:
    return {**slack_api.env, "SLACK_BOT_TOKEN": TOKEN}


def deliveries(where: Path | str) -> list[dict[str, Any]]:
    """The deliveries of the store at ``where``: a test's folder (its ``n.db``), or a URL."""
    db = where / "n.db" if isinstance(where, Path) else where
    return query(db, "SELECT * FROM deliveries ORDER BY created, id")


def test_a_thread_spans_processes_and_a_resolve_updates_the_first_message(
    slack_api, notify_cli, tmp_path
) -> None:
    config(tmp_path, 'on_resolve = "both"\nresolve_events = ["training.completed"]')
    e = env(slack_api)
    start = notify_cli(
        "send", "-t", "Training started: exp-42", "--event", "training.started",
        "--thread-id", "exp-42", "--action", "View run=https://ml.example.com/exp/42", env=e,
    )  # fmt: skip
    assert start.returncode == 0, start.stderr
    # another process queues the next two; a worker (a third process) sends them
    for title, event in (
        ("Epoch 10/20", "training.progress"),
        ("Training completed", "training.completed"),
    ):
        queued = notify_cli(
            "send", "-t", title, "--event", event, "--thread-id", "exp-42", "--wait", "0", env=e
        )
        assert queued.returncode == 0, queued.stderr
    worker = notify_cli("worker", "--once", env=e)
    assert worker.returncode == 0, worker.stderr

    [parent] = slack_api.parents()
    assert parent.text.startswith("Training started")
    replies = slack_api.replies(parent.ts)
    assert [r.text.split("\n")[0] for r in replies] == ["Epoch 10/20", "Training completed"]
    [update] = parent.updates
    assert update["ts"] == parent.ts and update["channel"] == CHANNEL
    assert update["blocks"] == parent.blocks  # the first message's content, button included
    assert update["attachments"][0]["color"] == "#2EB67D"
    assert update["attachments"][0]["blocks"][0]["elements"][0]["text"] == "*resolved*"
    assert update["text"].startswith("[RESOLVED] Training completed")
    assert slack_api.refused == []
    rows = deliveries(tmp_path)
    assert [r["status"] for r in rows] == ["delivered"] * 3
    assert all(r["attempts"] == 1 for r in rows)
    assert json.loads(rows[1]["meta"])["thread_ts"] == parent.ts
    # the resolve ended the thread: the next message with the key starts a new one
    again = notify_cli("send", "-t", "Training started again", "--thread-id", "exp-42", env=e)
    assert again.returncode == 0, again.stderr
    assert len(slack_api.parents()) == 2
    assert slack_api.messages[-1].thread_ts is None


def test_a_follow_up_waits_for_the_first_message_sent_by_another_process(
    slack_api, tmp_path, store_db
) -> None:
    """On either store: the thread's hold spans processes, so the reply goes into the one
    thread, with the first message's ``thread_ts``."""
    config(tmp_path)
    e = {**env(slack_api), "NOTIFY_DB": store_db}
    gate = slack_api.hold()  # Slack is slow to answer the first message
    base = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}
    first = subprocess.Popen(
        [*CLI, "send", "-t", "Deploy started", "--thread-id", "deploy-7"],
        cwd=tmp_path, env={**base, **e}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        slack_api.wait_for_calls(1)
        second = subprocess.Popen(
            [*CLI, "send", "-t", "Deploy finished", "--thread-id", "deploy-7"],
            cwd=tmp_path, env={**base, **e}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            waiting = _until(
                lambda: [
                    r for r in deliveries(store_db)
                    if (r["last_error"] or "").startswith("waiting for an earlier message")
                ]
            )  # fmt: skip
            assert len(slack_api.calls) == 1  # held: the follow-up made no request yet
            assert waiting[0]["attempts"] == 0
        finally:
            gate.set()
            _, err2 = second.communicate(timeout=60)
    finally:
        gate.set()
        _, err1 = first.communicate(timeout=60)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    [parent] = slack_api.parents()
    assert parent.text == "Deploy started"
    [reply] = slack_api.replies(parent.ts)
    assert reply.text == "Deploy finished" and reply.thread_ts == parent.ts
    assert slack_api.refused == []
    rows = deliveries(store_db)
    assert [(r["status"], r["attempts"]) for r in rows] == [("delivered", 1), ("delivered", 1)]


def test_a_revoked_token_fails_and_disables_the_channel_with_the_reason(
    slack_api, notify_cli, tmp_path
) -> None:
    config(tmp_path, notify="auto_disable_after = 2")
    slack_api.tokens[TOKEN] = "token_revoked"
    e = env(slack_api)
    for _ in range(2):
        failed = notify_cli("send", "-t", "Backup done", "--to", "ml-bot", env=e)
        assert failed.returncode == 1
        assert "token_revoked" in failed.stdout + failed.stderr
    rows = deliveries(tmp_path)
    assert [(r["status"], r["last_error"], r["attempts"]) for r in rows] == [
        ("failed", "token_revoked", 1)
    ] * 2
    listed = notify_cli("channels", "--json", env=e)
    [channel] = [c for c in json.loads(listed.stdout) if c["channel"] == "ml-bot"]
    assert "token_revoked" in json.dumps(channel)
    assert "auto-disabled" in json.dumps(channel)
    skipped = notify_cli("send", "-t", "Backup done", "--to", "ml-bot", env=e)
    assert deliveries(tmp_path)[-1]["status"] == "skipped"
    assert "auto-disabled after 2 consecutive failures; last: token_revoked" in skipped.stdout
    assert len(slack_api.calls) == 2  # nothing was sent to a channel that is off
    for text in (failed.stdout, failed.stderr, listed.stdout, skipped.stdout, skipped.stderr):
        assert TOKEN not in text
    assert TOKEN.encode() not in stored_bytes(tmp_path / "n.db")


def test_rate_limited_is_retried_after_retry_after_and_nothing_is_lost(
    slack_api, notify_cli, tmp_path
) -> None:
    config(tmp_path)
    slack_api.script = [
        Answer(429, '{"ok":false,"error":"ratelimited"}', headers={"Retry-After": "1"})
    ]
    sent = notify_cli("send", "-t", "Backup done", "--to", "ml-bot", env=env(slack_api))
    assert sent.returncode == 0, sent.stderr
    assert len(slack_api.posts()) == 2
    assert [m.text for m in slack_api.messages] == ["Backup done"]
    [row] = deliveries(tmp_path)
    assert (row["status"], row["attempts"]) == ("delivered", 2)
    attempts = query(tmp_path / "n.db", "SELECT * FROM attempts ORDER BY number")
    assert [(a["outcome"], a["http_status"], a["error"]) for a in attempts] == [
        ("retry", 429, "ratelimited"),
        ("delivered", 200, "ok"),
    ]
    # the retry waited for Retry-After
    first, second = slack_api.posts()
    assert second.received - first.received >= 1.0


def test_the_token_never_shows_in_the_store_the_output_or_a_dry_run(
    slack_api, notify_cli, tmp_path
) -> None:
    config(tmp_path)
    e = env(slack_api)
    outputs = []
    for args in (
        ("send", "-t", "Backup done", "--to", "ml-bot", "--json"),
        ("send", "-t", "Backup done", "--to", "ml-bot", "--dry-run"),
        ("send", "-t", "Ad hoc", "--url", f"slack://{TOKEN}@{CHANNEL}"),
        ("send", "-t", "Ad hoc", "--url", f"slack://{TOKEN}@{CHANNEL}", "--dry-run"),
        ("channels", "--json"),
        ("check",),
        ("log", "--json"),
    ):
        result = notify_cli(*args, env=e)
        assert result.returncode == 0, (args, result.stderr)
        outputs += [result.stdout, result.stderr]
    for text in outputs:
        assert TOKEN not in text
        assert TOKEN[15:] not in text
    assert any(f"slack://xoxb-****@{CHANNEL}" in text for text in outputs)
    assert TOKEN.encode() not in stored_bytes(tmp_path / "n.db")
    assert len(slack_api.posts()) == 2
    assert {c.authorization for c in slack_api.calls} == {f"Bearer {TOKEN}"}
    assert all(TOKEN not in json.dumps(c.args) for c in slack_api.calls)


def _until(probe: Any, timeout: float = 30.0) -> Any:
    """Poll ``probe`` until it returns something truthy (a condition, not a timing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("condition not reached")
