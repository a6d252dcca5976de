"""``notify serve`` as users run it: the real CLI in a subprocess, on a free loopback port,
its store a real SQLite file (or a real PostgreSQL), its channels pointed at the kit's
RecordingServer."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from notify_core.testing import RecordingServer

TOKEN = "t0ken-for-tests-only-0123456789abcdef"
HOOK_SECRET = "hooksecret9f8e7d6c5b4a"
_CLI = "import sys; from notify_core._cli import main; sys.exit(main())"


def webhook_config(recorder: RecordingServer, *extra: str) -> str:
    """Two webhook channels at the recorder: ``hook`` takes every event, ``flaky`` answers
    per its own path (script it), and their URLs carry a secret that must never show."""
    return "\n".join(
        [
            "[channels.hook]",
            'provider = "webhook"',
            f'url = "{recorder.url}/hook?token={HOOK_SECRET}"',
            'events = ["*"]',
            "[channels.flaky]",
            'provider = "webhook"',
            f'url = "{recorder.url}/flaky?token={HOOK_SECRET}"',
            'events = ["flaky.*"]',
            "retry = { attempts = 1 }",
            *extra,
        ]
    )


class Served:
    """One running ``notify serve``: its URL, its store, and a client that is logged in."""

    def __init__(self, proc: subprocess.Popen[str], url: str, db: str | Path, log: Path) -> None:
        self.proc = proc
        self.url = url
        self.db = db
        self.log = log
        self.token: str | None = None

    def client(self, token: str | bool | None = True, **kwargs: Any) -> httpx.Client:
        headers = dict(kwargs.pop("headers", {}))
        use = self.token if token is True else (token or None)
        if use:
            headers["Authorization"] = f"Bearer {use}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("notify serve did not stop on " + str(sig)) from None
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_serve(
    tmp_path: Path,
    config: str | None,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
    name: str = "serve",
    db: str | Path | None = None,
) -> Served | subprocess.CompletedProcess[str]:
    """Start ``notify serve --port 0``; the :class:`Served`, or how it failed to start.

    ``db`` is the store (default: ``NAME.db`` in ``tmp_path``).
    """
    cfg = tmp_path / f"{name}.toml"
    db = db if db is not None else tmp_path / f"{name}.db"
    if config is not None:
        cfg.write_text(config)
    log = tmp_path / f"{name}.log"
    base = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}
    base.update(env or {})
    argv = [sys.executable, "-c", _CLI, "serve", "--config", str(cfg), "--db", str(db)]
    if "--port" not in args:
        argv += ["--port", "0"]
    with log.open("w") as err:
        proc = subprocess.Popen(
            [*argv, *args], stdout=subprocess.PIPE, stderr=err, text=True, env=base, cwd=tmp_path
        )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:  # it exited
            proc.wait()
            return subprocess.CompletedProcess(
                proc.args, proc.returncode, "".join(seen), log.read_text()
            )
        seen.append(line)
        if "listening on " in line:
            url = line.split("listening on ", 1)[1].split()[0]
            return Served(proc, url, db, log)
    proc.kill()
    proc.wait()
    raise AssertionError(f"notify serve did not start: {''.join(seen)}{log.read_text()}")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``serve(config, *args, env=…, token=…)``: a started server, stopped after the test."""
    started: list[Served] = []

    def run(config: str, *args: str, env: Mapping[str, str] | None = None, **kw: Any) -> Served:
        token = kw.pop("token", None)
        env = dict(env or {})
        if token:
            env["NOTIFY_SERVE_TOKENS"] = token
        name = kw.pop("name", f"serve{len(started)}")
        served = start_serve(tmp_path, config, *args, env=env, name=name, **kw)
        assert isinstance(served, Served), f"did not start: {served.stdout}{served.stderr}"
        served.token = token
        started.append(served)
        return served

    yield run
    for served in started:
        code = served.stop()
        assert code == 0, f"notify serve exited {code} on SIGTERM:\n{served.output()}"
        # no secret ever in a log line
        assert HOOK_SECRET not in served.output()
        assert TOKEN not in served.output()


def wait_until(check: Callable[[], Any], timeout: float = 15, what: str = "condition") -> Any:
    """Poll a real server until ``check()`` is truthy (a worker delivering, a page updating)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
