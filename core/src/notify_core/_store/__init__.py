"""The store: the outbox and the audit log, behind one small typed protocol.

The pipeline talks to :class:`Store` only; a backend is SQL and nothing else (no
policy: when to auto-disable, whether a silence applies or a repeat is too soon is
decided by the pipeline steps). The protocol is written for a server database too:
claims are leased and atomic, writes come in batches (:meth:`Store.transaction`),
time comes from the injected clock, and no caller assumes one file or one process.

:func:`open_store` picks the backend from the location: a path (or ``sqlite:///…``)
is the embedded SQLite store; ``postgresql://…`` is PostgreSQL (the ``postgres`` extra),
for workers on many hosts.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import AbstractContextManager
from typing import Any, Protocol

from .._clock import SYSTEM_CLOCK, Clock
from .._errors import StoreError, StoreUnavailable
from ._group_records import (
    CarriedItem,
    GroupItem,
    GroupKind,
    GroupRow,
    GroupSettlement,
    ItemState,
    NewGroup,
    NewGroupItem,
)
from ._protocol import (
    ChannelStore,
    GroupStore,
    LogStore,
    OutboxStore,
    PaceStore,
    RequestStore,
    StateStore,
    ThreadStore,
    Wakeups,
)
from ._records import (
    EXCERPT_LIMIT,
    FINAL,
    OPEN,
    STATUSES,
    AttemptRow,
    AuditAction,
    ChannelAudit,
    ChannelState,
    DeliveryRow,
    DeliveryStatus,
    IdempotencyRecord,
    NewDelivery,
    Silence,
    StoredChannel,
    ThreadTurn,
    new_id,
)

__all__ = [
    "EXCERPT_LIMIT",
    "FINAL",
    "OPEN",
    "POSTGRES_SCHEMES",
    "STATUSES",
    "TRANSIENT_ERRORS",
    "AttemptRow",
    "AuditAction",
    "CarriedItem",
    "ChannelAudit",
    "ChannelState",
    "DeliveryRow",
    "DeliveryStatus",
    "GroupItem",
    "GroupKind",
    "GroupRow",
    "GroupSettlement",
    "IdempotencyRecord",
    "ItemState",
    "NewDelivery",
    "NewGroup",
    "NewGroupItem",
    "Silence",
    "Store",
    "StoredChannel",
    "ThreadTurn",
    "Wakeups",
    "is_postgres",
    "new_id",
    "open_store",
]

#: Location prefixes that name a PostgreSQL database.
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
#: What a store call may raise when the database is away for a while (a restart, a
#: network cut, SQLite's lock held past its timeout): worth retrying later.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (StoreUnavailable, sqlite3.OperationalError)


class Store(
    OutboxStore,
    ThreadStore,
    LogStore,
    StateStore,
    RequestStore,
    GroupStore,
    PaceStore,
    ChannelStore,
    Protocol,
):
    """What the pipeline needs from a database. Methods are synchronous and fast.

    ``remote`` says whether a call crosses a network: the async parts of the pipeline
    run a remote store's calls off the event loop, and a local one's inline.
    """

    location: str
    remote: bool
    clock: Clock

    def close(self) -> None: ...

    def transaction(self, *, isolated: bool = True) -> AbstractContextManager[Any]:
        """One write transaction around many calls; a failing call rolls back only itself.

        ``isolated=False`` says the transaction holds one caller's calls only: a backend
        may then skip the savepoint per call (a failure rolls everything back, which is
        the same thing), as PostgreSQL does to save two round trips a call.
        """
        ...

    def ready(self) -> str | None:
        """``None`` when the store answers and its schema is the one this code migrates to.

        Otherwise why not, in one line (``notify serve``'s ``/readyz`` shows it).
        """
        ...

    def changes(self) -> int | None:
        """A number that moves whenever silences or channel switches may have changed.

        Lets callers cache those rarely changing reads; ``None`` when the backend cannot
        tell cheaply (callers then re-read after a short while).
        """
        ...


def is_postgres(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` names a PostgreSQL database (``postgresql://…``)."""
    return os.fspath(location).startswith(POSTGRES_SCHEMES)


def open_store(
    location: str | os.PathLike[str], *, clock: Clock = SYSTEM_CLOCK, read_only: bool = False
) -> Store:
    """The store at ``location``: a SQLite file path, ``sqlite:///path`` or ``:memory:``;
    or a PostgreSQL URL ``postgresql://user:password@host:port/dbname`` (needs the
    ``postgres`` extra: ``pip install "notify-core[postgres]"``).

    ``read_only`` is for commands that only look (``notify log``): the store must exist
    already, and nothing is ever written, so a read-only file can be read.
    """
    text = os.fspath(location)
    if is_postgres(text):
        try:
            from ._pg import PostgresStore
        except ImportError as exc:
            if (exc.name or "").partition(".")[0] not in ("psycopg", "psycopg_pool"):
                raise
            raise StoreError(
                f"a PostgreSQL store needs psycopg and psycopg-pool ({exc.name} is not "
                'installed): pip install "notify-core[postgres]"'
            ) from None
        return PostgresStore(text, clock=clock)
    if text.startswith("sqlite://"):
        text = text.removeprefix("sqlite://").removeprefix("/") if text != "sqlite://" else ""
        text = text or ":memory:"
    from ._sqlite import SqliteStore

    return SqliteStore(text, clock=clock, read_only=read_only)
