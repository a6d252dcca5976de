"""What the SQLite store's table modules share: the connection and its transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .._errors import StoreError, StoreUnavailable
from ._sql_base import SQLITE, SqlBase
from ._sqlite_checkpoint import Checkpointer


class SqliteBase(SqlBase):
    """The connection, the clock, and write transactions (nested ones as savepoints)."""

    _db: sqlite3.Connection
    _dialect = SQLITE
    _integrity_errors = (sqlite3.IntegrityError,)
    #: runs the WAL's checkpoints off the writing thread (:mod:`._sqlite_checkpoint`)
    _checkpointer: Checkpointer | None = None

    @contextmanager
    def _statement(self) -> Iterator[sqlite3.Connection]:
        """The one connection: a statement outside a transaction is its own (autocommit)."""
        yield self._db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; nested writes become savepoints."""
        if self._db.in_transaction:
            yield from self._savepoint()
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # locked past busy_timeout: try again later
            raise StoreUnavailable(f"cannot write to database {self.location}: {exc}") from None
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to database {self.location}: {exc}") from None
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise StoreError(f"cannot write to database {self.location}: {exc}") from None
            if self._checkpointer is not None:
                self._checkpointer.committed()

    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("SAVEPOINT nested")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK TO nested")
            self._db.execute("RELEASE nested")
            raise
        self._db.execute("RELEASE nested")

    def _executemany(self, db: Any, text: str, rows: Sequence[Sequence[Any]]) -> None:
        db.executemany(text, rows)

    def _serialize(self, db: Any, name: str) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already makes write transactions take turns."""

    def _glob(self, column: str, pattern: str) -> tuple[str, str]:
        return f"{column} GLOB ?", pattern
