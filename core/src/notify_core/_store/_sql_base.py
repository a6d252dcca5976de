"""What SQL shared by both backends needs from a store: connections, and one spelling.

Statements that SQLite and PostgreSQL understand alike are written once, in SQLite's
spelling (``?`` placeholders), and run by both: :meth:`SqlBase._sql` gives each
backend its own form. A backend provides :meth:`SqlBase._statement` (a connection for
one statement, or the thread's transaction) and :meth:`SqlBase._write` (a transaction;
a savepoint inside another).
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager
from typing import Any

from .._clock import Clock


@functools.lru_cache(maxsize=256)
def format_placeholders(text: str) -> str:
    """SQLite's ``?`` placeholders as psycopg's ``%s`` (statements hold no literal ``?``)."""
    return text.replace("%", "%%").replace("?", "%s")


class SqlBase:
    location: str
    clock: Clock
    #: writes through this store that change switches or silences (see ``changes``)
    _own_writes: int

    def _sql(self, text: str) -> str:
        """``text`` (SQLite's spelling) as this backend's driver takes it."""
        return text

    def _statement(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Any]:
        raise NotImplementedError
