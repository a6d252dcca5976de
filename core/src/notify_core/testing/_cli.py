"""Running the real ``notify`` command, and reading a store the way an operator would."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import attrs

_CLI = [sys.executable, "-c", "import sys; from notify_core._cli import main; sys.exit(main())"]


@attrs.frozen
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_notify(
    *args: str,
    cwd: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 60,
) -> CliResult:
    """Run ``notify ARGS`` in a subprocess; inherited ``NOTIFY_*`` variables are dropped."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}
    base.update(env or {})
    proc = subprocess.run(
        [*_CLI, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=base,
        input=input,
        timeout=timeout,
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def query(db: str | os.PathLike[str], sql: str, *args: object) -> list[dict[str, object]]:
    """Rows of ``sql`` against a store file, as dicts."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, args).fetchall()]
    finally:
        con.close()


def stored_bytes(db: str | os.PathLike[str]) -> bytes:
    """Every byte of a store: the file, its WAL and shared memory (for leak checks)."""
    data = b""
    for suffix in ("", "-wal", "-shm"):
        path = Path(str(db) + suffix)
        if path.exists():
            data += path.read_bytes()
    return data
