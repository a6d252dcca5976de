"""What SQL shared by both backends needs from a store: connections, and one spelling.

Statements that SQLite and PostgreSQL understand alike are written once, in SQLite's
spelling (``?`` placeholders), and run by both: :meth:`SqlBase._sql` gives each
backend its own form. A backend provides :meth:`SqlBase._statement` (a connection for
one statement, or the thread's transaction) and :meth:`SqlBase._write` (a transaction;
a savepoint inside another).

The few words the two spell differently are a :class:`Dialect`, and the few things they
do differently (locking, many rows at once, a glob) are small hooks below: the
statements around them stay one text.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar

import attrs

from .._clock import Clock


@functools.lru_cache(maxsize=256)
def format_placeholders(text: str) -> str:
    """SQLite's ``?`` placeholders as psycopg's ``%s`` (statements hold no literal ``?``)."""
    return text.replace("%", "%%").replace("?", "%s")


@attrs.frozen
class Dialect:
    """The words SQLite and PostgreSQL spell differently, for statements written once."""

    #: the larger of two values (SQLite's two-argument ``MAX``)
    greatest: str
    #: null-safe equality: ``tenant IS ?`` matches a NULL tenant too
    same: str
    #: a column that grows with every insert: the tie-break between rows created in one
    #: instant (ids are random within a millisecond)
    arrival: str
    #: what a subquery that picks rows to claim ends with, so that concurrent claims
    #: never wait for each other nor take a row twice
    skip_locked: str


#: SQLite: one writer at a time (``BEGIN IMMEDIATE``), so a claim needs no row locks.
SQLITE = Dialect(greatest="MAX", same="IS", arrival="rowid", skip_locked="")
#: PostgreSQL: rows have no ``rowid``; the schema gives such tables an ``arrival``
#: ``BIGSERIAL`` column instead.
POSTGRES = Dialect(
    greatest="GREATEST",
    same="IS NOT DISTINCT FROM",
    arrival="arrival",
    skip_locked=" FOR UPDATE SKIP LOCKED",
)


class SqlBase(abc.ABC):
    """The SQL every backend shares; each backend supplies the abstract methods below.

    Abstract, so a backend missing one fails when it is made, not on its first call.
    """

    location: str
    clock: Clock
    #: writes through this store that change switches or silences (see ``changes``)
    _own_writes: int
    _dialect: ClassVar[Dialect]
    #: what the driver raises when a constraint refuses a row
    _integrity_errors: ClassVar[tuple[type[Exception], ...]]

    def _sql(self, text: str) -> str:
        """``text`` (SQLite's spelling) as this backend's driver takes it."""
        return text

    @abc.abstractmethod
    def _statement(self) -> AbstractContextManager[Any]: ...

    @abc.abstractmethod
    def _write(self) -> AbstractContextManager[Any]: ...

    @abc.abstractmethod
    def _executemany(self, db: Any, text: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run ``text`` once per row of ``rows``, inside the transaction ``db`` holds."""
        ...

    @abc.abstractmethod
    def _serialize(self, db: Any, name: str) -> None:
        """Hold the lock called ``name`` until ``db``'s transaction ends.

        For decisions that read before they write, about rows that may not exist yet
        (a thread before its first message): two such transactions for one ``name``
        take turns instead of both deciding on what they read.
        """
        ...

    @abc.abstractmethod
    def _glob(self, column: str, pattern: str) -> tuple[str, str]:
        """A condition that ``column`` matches the GLOB ``pattern``, and its argument."""
        ...

    @abc.abstractmethod
    def _prune_rates(self, db: Any) -> None:
        """Forget idle rate-limit state (a past TAT is as good as no row)."""
        ...

    def _wake_workers(self) -> None:
        """Say that work is due now, if this backend can tell idle workers (it may not)."""
        return  # by default nobody is told: idle workers find the work when they next poll
