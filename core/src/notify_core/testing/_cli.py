"""Running the real ``notify`` command, and reading a store the way an operator would."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import attrs

from .._store import is_postgres

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
    """Rows of ``sql`` against a store (a SQLite file or a ``postgresql://`` URL), as dicts.

    Write SQLite's ``?`` placeholders for either backend (for PostgreSQL they become
    ``%s``, and a literal ``%`` is escaped).
    """
    if is_postgres(db):
        import psycopg

        with psycopg.connect(os.fspath(db), autocommit=True) as conn:
            cursor = conn.execute(sql.replace("%", "%%").replace("?", "%s"), args)
            names = [c.name for c in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, args).fetchall()]
    finally:
        con.close()


def stored_bytes(db: str | os.PathLike[str]) -> bytes:
    """Every byte of a store, for leak checks: a SQLite file with its WAL and shared memory,
    or every row of every table of a PostgreSQL database, as text."""
    if is_postgres(db):
        return _postgres_rows(os.fspath(db))
    data = b""
    for suffix in ("", "-wal", "-shm"):
        path = Path(str(db) + suffix)
        if path.exists():
            data += path.read_bytes()
    return data


def _postgres_rows(url: str) -> bytes:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() ORDER BY table_name"
        ).fetchall()
        out = []
        for (table,) in tables:
            rows = conn.execute(
                sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(table))
            ).fetchall()
            out += [f"{table}: {row[0]}" for row in rows]
    return "\n".join(out).encode()
