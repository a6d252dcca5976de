"""The embedded store: one SQLite file is the outbox and the audit log.

A delivery row exists, ``pending`` or leased as ``sending``, before the first byte
goes out, so a crash anywhere loses nothing: an expired lease makes the row due
again (at-least-once). Claims are a single ``UPDATE … RETURNING`` inside ``BEGIN
IMMEDIATE``, so several processes can share one file without claiming a row twice.

WAL with ``synchronous=NORMAL``: a commit survives a process crash; only an OS crash
or power loss may lose the last transactions (DESIGN §7 has the cost of FULL).

The SQL is split by table. Most of it is one text for SQLite and PostgreSQL (see
:mod:`._sql_base`): :mod:`._deliveries`, :mod:`._state` (silences and channel state),
:mod:`._requests`, :mod:`._threads`, :mod:`._groups` and :mod:`._stored_channels`;
:mod:`._sqlite_outbox` (claims) and :mod:`._sqlite_rates` are SQLite's own. This module
holds the connection, transactions and migrations they share.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from .._clock import SYSTEM_CLOCK, Clock
from .._errors import StoreError
from . import Wakeups
from ._groups import GroupsSQL
from ._requests import RequestsSQL
from ._sqlite_checkpoint import Checkpointer
from ._sqlite_outbox import OutboxSQL
from ._sqlite_rates import RatesSQL
from ._sqlite_schema import MIGRATIONS, SCHEMA_VERSION
from ._state import StateSQL
from ._stored_channels import StoredChannelsSQL
from ._threads import ThreadsSQL

__all__ = ["SCHEMA_VERSION", "SqliteStore"]


class SqliteStore(
    OutboxSQL, StateSQL, RatesSQL, RequestsSQL, ThreadsSQL, GroupsSQL, StoredChannelsSQL
):
    """One SQLite file. Not thread-safe: use it from one thread (the event loop's)."""

    remote = False

    def __init__(self, path: str, *, clock: Clock = SYSTEM_CLOCK, read_only: bool = False) -> None:
        self.location = path
        self.clock = clock
        self._own_writes = 0
        self._checkpointer: Checkpointer | None = None
        try:
            if path != ":memory:":
                parent = Path(path).parent  # not resolved: a reader may not see the parents
                if not parent.is_dir():
                    raise StoreError(
                        f"cannot open database {path}: directory {parent} does not exist"
                    )
            if read_only:
                self._db = self._open_read_only(path)
                self._check_version()
                return
            self._db = sqlite3.connect(
                path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
            self._db.execute("PRAGMA busy_timeout = 30000")
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
            if path != ":memory:":  # commits never wait for a checkpoint: see the module
                self._db.execute("PRAGMA wal_autocheckpoint = 0")
                self._checkpointer = Checkpointer(path)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from None

    @staticmethod
    def _open_read_only(path: str) -> sqlite3.Connection:
        """For commands that only read: never create a file, work on a read-only one.

        ``mode=ro`` still needs to create the WAL's shared-memory file; where even that is
        impossible (a read-only folder or mount), ``immutable=1`` reads the file as is.
        """
        if path == ":memory:" or not Path(path).is_file():
            raise StoreError(
                f"no database at {path}: nothing has been stored there yet "
                "(check --db, $NOTIFY_DB or [notify].db)"
            )
        uri = "file:" + quote(path)
        try:
            db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, timeout=30.0)
            db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            db = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)
        db.execute("PRAGMA busy_timeout = 30000")
        return db

    def _check_version(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            newer = "newer" if version > SCHEMA_VERSION else "older"
            raise StoreError(
                f"database {self.location} has schema {version}, {newer} than this notify "
                f"({SCHEMA_VERSION}); "
                + (
                    "upgrade notify-core"
                    if version > SCHEMA_VERSION
                    else "run `notify worker --once` to migrate it"
                )
            )

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        self._db.close()

    def ready(self) -> str | None:
        """Not ready when the file cannot be read or another notify moved its schema on."""
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            return f"cannot read database {self.location}: {exc}"
        if version != SCHEMA_VERSION:
            return (
                f"database {self.location} has schema {version}, this notify needs {SCHEMA_VERSION}"
            )
        return None

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
