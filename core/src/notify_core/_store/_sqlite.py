"""The embedded store: one SQLite file is the outbox and the audit log.

A delivery row exists, ``pending`` or leased as ``sending``, before the first byte
goes out, so a crash anywhere loses nothing: an expired lease makes the row due
again (at-least-once). Claims are a single ``UPDATE … RETURNING`` inside ``BEGIN
IMMEDIATE``, so several processes can share one file without claiming a row twice.

WAL with ``synchronous=NORMAL``: a commit survives a process crash; only an OS crash
or power loss may lose the last transactions (DESIGN §7 has the cost of FULL).

The SQL is split by table into :mod:`._sqlite_outbox`, :mod:`._sqlite_rates` and
:mod:`._state` (silences and channel state, shared with PostgreSQL); this module holds
the connection, transactions and migrations they share.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .._clock import SYSTEM_CLOCK, Clock
from .._errors import StoreError
from . import Wakeups
from ._sqlite_outbox import OutboxSQL
from ._sqlite_rates import RatesSQL
from ._sqlite_schema import MIGRATIONS, SCHEMA_VERSION
from ._state import StateSQL

__all__ = ["SCHEMA_VERSION", "SqliteStore"]


class SqliteStore(OutboxSQL, StateSQL, RatesSQL):
    """One SQLite file. Not thread-safe: use it from one thread (the event loop's)."""

    remote = False

    def __init__(self, path: str, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.location = path
        self.clock = clock
        self._own_writes = 0
        try:
            if path != ":memory:":
                parent = Path(path).resolve().parent
                if not parent.is_dir():
                    raise StoreError(
                        f"cannot open database {path}: directory {parent} does not exist"
                    )
            self._db = sqlite3.connect(
                path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
            self._db.execute("PRAGMA busy_timeout = 30000")
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def wakeups(self) -> Wakeups | None:
        """None: a file has no way to call; workers poll it (a poll is cheap here)."""
        return None

    def changes(self) -> int:
        """``PRAGMA data_version`` moves when another connection commits; own writes count too."""
        version: int = self._db.execute("PRAGMA data_version").fetchone()[0]
        return version * 1_000_003 + self._own_writes

    @contextmanager
    def transaction(self, *, isolated: bool = True) -> Iterator[sqlite3.Connection]:
        """(``isolated`` changes nothing here: an in-process savepoint costs microseconds.)"""
        with self._write() as db:
            yield db

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database {self.location} has schema {version}, newer than this "
                f"notify ({SCHEMA_VERSION}); upgrade notify-core"
            )
        if version == SCHEMA_VERSION:
            return
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]  # another process?
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {target}")
