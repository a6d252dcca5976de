"""Stored channels as users manage them: the real CLI in subprocesses, a real SQLite file
(or a real PostgreSQL),
``notify serve`` on a loopback port, and the kit's RecordingServer as every destination.

Every secret a test stores is one of the strings below, so a leak check is a substring
search through the database bytes (file, WAL, shm), outputs, answers, pages and logs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from notify_core.testing import CliResult, RecordingServer, run_notify, stored_bytes

from ..serve.conftest import Served, start_serve

#: The secrets stored channels carry in these tests; none may ever show anywhere.
URL_SECRET = "urltoken5e4d3c2b1a0f9e8d"
AUTH_SECRET = "bearer9a8b7c6d5e4f3a2b1c"
ROOT_SECRET = "roottoken0f1e2d3c4b5a6978"
SECRETS = (URL_SECRET, AUTH_SECRET, ROOT_SECRET)


def new_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def root_config(recorder: RecordingServer, *extra: str) -> str:
    """One configured root channel (``ops``) and two event templates."""
    return "\n".join(
        [
            "[channels.ops]",
            'provider = "webhook"',
            f'url = "{recorder.url}/ops?token={ROOT_SECRET}"',
            'events = ["*"]',
            '[events."training.failed"]',
            'title = "Training failed: {experiment}"',
            '[events."training.complete"]',
            'title = "Training complete: {experiment}"',
            *extra,
        ]
    )


def hook_url(recorder: RecordingServer, path: str = "acme") -> str:
    return f"{recorder.url}/{path}?token={URL_SECRET}"


def assert_no_secret(*texts: str | bytes) -> None:
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        for secret in SECRETS:
            assert secret.encode() not in data, f"secret {secret[:6]}… leaked"


class Cli:
    """``notify …`` in a subprocess, with this test's config, store and key."""

    def __init__(self, tmp_path: Path, key: str, db: str | Path | None = None) -> None:
        self.cwd = tmp_path
        self.config = tmp_path / "notify.toml"
        self.db: str | Path = db if db is not None else tmp_path / "notify.db"
        self.env: dict[str, str] = {"NOTIFY_SECRET_KEY": key}
        self.outputs: list[str] = []

    def __call__(self, *args: str, env: Mapping[str, str] | None = None, **kw: Any) -> CliResult:
        merged = {**self.env, **(env or {})}
        merged = {k: v for k, v in merged.items() if v is not None}
        result = run_notify(
            *args,
            "--config",
            str(self.config),
            "--db",
            str(self.db),
            cwd=self.cwd,
            env=merged,
            **kw,
        )
        self.outputs += [result.stdout, result.stderr]
        return result

    def stored(self) -> bytes:
        return stored_bytes(self.db)


@pytest.fixture
def key() -> str:
    return new_key()


@pytest.fixture
def cli(tmp_path: Path, key: str, recorder: RecordingServer) -> Iterator[Cli]:
    made = Cli(tmp_path, key)
    made.config.write_text(root_config(recorder))
    yield made
    assert_no_secret(*made.outputs)  # no command ever printed a stored secret


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``serve(config, *args, env=…, token=…)``: a started ``notify serve``, stopped after."""
    started: list[Served] = []

    def run(config: str, *args: str, env: Mapping[str, str] | None = None, **kw: Any) -> Served:
        token = kw.pop("token", None)
        env = dict(env or {})
        if token:
            env["NOTIFY_SERVE_TOKENS"] = token
        served = start_serve(tmp_path, config, *args, env=env, name=f"serve{len(started)}", **kw)
        assert isinstance(served, Served), f"did not start: {served.stdout}{served.stderr}"
        served.token = token
        started.append(served)
        return served

    yield run
    for served in started:
        assert served.stop() == 0, served.output()
        assert_no_secret(served.output())
