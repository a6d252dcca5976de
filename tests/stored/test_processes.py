"""Other processes see stored channels without a restart: a ``notify worker`` and a
``notify serve`` started before the channel was added (or edited) by the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from notify_core.testing import RecordingServer

from ..serve.conftest import TOKEN, Served, wait_until
from .conftest import Cli, hook_url

EVENT = {"event": "training.failed", "tenant": "acme", "data": {"experiment": "e1"}}
_CLI = "import sys; from notify_core._cli import main; sys.exit(main())"


def _path(recorder: RecordingServer, i: int) -> str:
    return recorder.requests[i].path.partition("?")[0]


def test_a_running_worker_delivers_to_a_channel_added_and_edited_after_it_started(
    cli: Cli, recorder: RecordingServer, tmp_path: Path
) -> None:
    cli("channels", "--json")  # nothing stored yet
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}
    env.update(cli.env)
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-c", _CLI, "worker", "--config", str(cli.config), "--db", str(cli.db)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    try:
        added = cli(
            "channels", "add", "late", "--tenant", "acme", "--provider", "webhook",
            "--url", hook_url(recorder, "late-v1"), "--events", "training.*",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        queued = cli(
            "send", "-t", "queued", "--event", "training.failed", "--tenant", "acme", "--wait", "0"
        )
        assert queued.returncode == 0, queued.stderr
        assert queued.stdout.startswith("pending")  # queued: the worker takes it
        wait_until(lambda: recorder.requests, timeout=30, what="the worker to deliver")
        assert _path(recorder, 0) == "/late-v1"

        edited = cli(
            "channels", "edit", "late", "--tenant", "acme", "--url", hook_url(recorder, "late-v2")
        )
        assert edited.returncode == 0, edited.stderr
        cli("send", "-t", "again", "--to", "late", "--tenant", "acme", "--wait", "0")
        wait_until(lambda: len(recorder.requests) == 2, timeout=30, what="the edited channel")
        assert _path(recorder, 1) == "/late-v2"
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
        log.close()
    assert "urltoken" not in (tmp_path / "worker.log").read_text()


def test_a_running_server_routes_to_a_channel_the_cli_added(
    cli: Cli, serve: Any, recorder: RecordingServer
) -> None:
    served: Served = serve(
        cli.config.read_text(), token=TOKEN, env={"NOTIFY_SECRET_KEY": cli.env["NOTIFY_SECRET_KEY"]}
    )
    # the server's own store file: the CLI writes to the same one
    cli.db = served.db
    with served.client() as client:
        before = client.post("/v1/events", json=EVENT)
        assert [d["channel"] for d in before.json()["deliveries"]] == ["ops"]  # the root's
        added = cli(
            "channels", "add", "fresh", "--tenant", "acme", "--provider", "webhook",
            "--url", hook_url(recorder, "fresh"), "--events", "training.*",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        after = client.post("/v1/events", json=EVENT)
        assert [d["channel"] for d in after.json()["deliveries"]] == ["fresh"]
        wait_until(lambda: len(recorder.requests) == 2, what="both deliveries")
        assert sorted(_path(recorder, i) for i in (0, 1)) == ["/fresh", "/ops"]
        listed = client.get("/v1/channels", params={"tenant": "acme"}).json()["channels"]
        assert [c["key"] for c in listed] == ["acme/fresh"]
