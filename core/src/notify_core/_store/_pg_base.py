"""What the PostgreSQL store's table modules share: pooled connections and transactions.

The pipeline calls a store from two threads: the event loop's (reads, a claim by id,
releasing on shutdown) and the batch writer's (:mod:`notify_core._writer`: every write of
one loop turn in one transaction). So connections come from a pool, and a transaction's
connection is bound to the thread that opened it: a call made inside
:meth:`PgBase._write` on that thread joins it (as a savepoint, which psycopg makes of a
nested ``transaction()``), a call from anywhere else takes a connection of its own.

Every psycopg error leaves as a :class:`~notify_core.StoreError` whose message names the
database by its masked URL; losing the server (a restart, a cut) is the subclass
:class:`~notify_core.StoreUnavailable`, which a worker waits out.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg

from .._errors import StoreError, StoreUnavailable
from .._masking import Masker
from ._sql_base import POSTGRES, SqlBase, format_placeholders

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

#: The channel ``LISTEN``/``NOTIFY`` use to say "work was accepted".
WORK_CHANNEL = "notify_work"
#: The database server's clock in integer microseconds: the one clock every host shares.
NOW_US = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::bigint"


def one_line(text: str) -> str:
    return " ".join(text.split())


def glob_regex(pattern: str) -> str:
    """A GLOB pattern (``*``, ``?``, ``[…]``, case-sensitive) as an anchored POSIX regex."""
    out = ["^"]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            if body.startswith(("!", "^")):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", char))
        i += 1
    return "".join(out) + "$"


class _Bound(threading.local):
    conn: psycopg.Connection[Any] | None = None
    #: whether each call in the transaction gets a savepoint of its own
    isolated: bool = True
    #: a call failed in a transaction without savepoints: roll it all back
    failed: bool = False
    #: a NOTIFY is due when the outermost transaction commits
    wake: bool = False


class PgBase(SqlBase):
    """The pool, the clock, and transactions bound to the calling thread."""

    _pool: ConnectionPool[psycopg.Connection[Any]]
    _bound: _Bound
    _masker: Masker
    _dialect = POSTGRES
    _integrity_errors = (psycopg.IntegrityError,)

    def _sql(self, text: str) -> str:
        return format_placeholders(text)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """psycopg's errors as the store's, with the URL masked (never the password)."""
        try:
            yield
        except psycopg.OperationalError as exc:  # the server went away (PoolTimeout too)
            detail = one_line(self._masker.text(str(exc))) or type(exc).__name__
            raise StoreUnavailable(f"database {self.location} unavailable: {detail}") from None
        except psycopg.Error as exc:
            detail = one_line(self._masker.text(str(exc))) or type(exc).__name__
            raise StoreError(f"database {self.location}: {detail}") from None

    @contextmanager
    def _statement(self) -> Iterator[psycopg.Connection[Any]]:
        """For one statement (a read, or a write atomic by itself): the thread's transaction
        connection, or a pooled one in autocommit (one round trip, no BEGIN/COMMIT)."""
        conn = self._bound.conn
        if conn is not None:
            with self._errors():
                yield conn
            return
        with self._errors(), self._pool.connection() as conn:
            yield conn

    @contextmanager
    def _write(self, *, isolated: bool = True) -> Iterator[psycopg.Connection[Any]]:
        """A transaction; inside another on this thread, a savepoint of it.

        (psycopg's pipeline mode would save round trips in a batch, but with a savepoint
        per call it costs more CPU than it saves time: measured, the worker's database
        thread used twice the CPU for the same throughput.)
        """
        bound = self._bound
        if bound.conn is not None:
            if not bound.isolated:  # one caller: its failure fails the whole transaction
                try:
                    with self._errors():
                        yield bound.conn
                except BaseException:
                    bound.failed = True
                    raise
                return
            with self._errors(), bound.conn.transaction():
                yield bound.conn
            return
        with self._errors(), self._pool.connection() as conn:
            bound.conn, bound.isolated, bound.failed, bound.wake = conn, isolated, False, False
            try:
                with conn.transaction():
                    yield conn
                    if bound.failed:  # a statement failed and its caller went on
                        raise StoreError(
                            f"database {self.location}: a statement failed, so its "
                            "transaction was rolled back"
                        )
                    if bound.wake:  # delivered at COMMIT, once however many rows
                        conn.execute(f"NOTIFY {WORK_CHANNEL}")
            finally:
                bound.conn, bound.isolated, bound.failed, bound.wake = None, True, False, False

    def _wake_workers(self) -> None:
        """Ask for a ``NOTIFY`` when this transaction commits: work is due now."""
        self._bound.wake = True

    def _executemany(self, db: Any, text: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with db.cursor() as cursor:
                cursor.executemany(text, rows)

    def _serialize(self, db: Any, name: str) -> None:
        """A transaction-scoped advisory lock on a 64-bit hash of ``name``.

        Row locks cannot do this: the row to lock may not exist yet. A hash collision
        only makes two unrelated names take turns.
        """
        db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (name,))

    def _glob(self, column: str, pattern: str) -> tuple[str, str]:
        return f"{column} ~ ?", glob_regex(pattern)
