"""The PostgreSQL store: one database is the outbox and the audit log for workers on many hosts.

The same schema and semantics as the embedded SQLite store (:mod:`._sqlite`), for when
several hosts send: claims lock with ``FOR UPDATE SKIP LOCKED`` and lease, so no two
workers ever hold one delivery and none waits for another; rate limits live in the
database under its server's clock; ``LISTEN``/``NOTIFY`` wakes idle workers when work is
accepted (:mod:`._pg_listen`).

psycopg 3 and psycopg-pool are the ``postgres`` extra (``pip install
"notify-core[postgres]"``), imported only when a ``postgresql://`` location is opened.
The URL's password is a secret: :attr:`PostgresStore.location` and every error show the
URL with ``***`` in the password's place (masked by position: a database name that
happens to contain the password's text is shown as it is).

The SQL is split by table. Most of it is one text for SQLite and PostgreSQL (see
:mod:`._sql_base`): :mod:`._deliveries`, :mod:`._state`, :mod:`._requests`,
:mod:`._threads`, :mod:`._groups` and :mod:`._stored_channels`; :mod:`._pg_outbox`
(claims) and :mod:`._pg_rates` are PostgreSQL's own. This module holds the pool, the
migrations and the wake-ups.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from .._clock import SYSTEM_CLOCK, Clock
from .._errors import StoreError
from .._masking import Masker, connection_secrets, masked_location
from . import Wakeups
from ._groups import GroupsSQL
from ._pg_base import _Bound, one_line
from ._pg_listen import PgWakeups
from ._pg_outbox import OutboxPG
from ._pg_rates import RatesPG
from ._pg_schema import MIGRATION_LOCK, MIGRATIONS, SCHEMA_VERSION
from ._requests import RequestsSQL
from ._state import StateSQL
from ._stored_channels import StoredChannelsSQL
from ._threads import ThreadsSQL

__all__ = ["SCHEMA_VERSION", "PostgresStore"]

#: Seconds to wait for a connection (a new one, or a free one from the pool).
CONNECT_TIMEOUT = 10


class PostgresStore(
    OutboxPG, StateSQL, RatesPG, RequestsSQL, ThreadsSQL, GroupsSQL, StoredChannelsSQL
):
    """A PostgreSQL database. Thread-safe: calls from any thread use pooled connections.

    ``max_connections`` bounds the pool of this process: the event loop's thread, the
    batch writer's and the shared limiter's use one each at most (a worker's ``LISTEN``
    has its own), so the default leaves room to spare.
    """

    remote = True

    def __init__(self, url: str, *, clock: Clock = SYSTEM_CLOCK, max_connections: int = 4) -> None:
        self.location = masked_location(url)
        self.clock = clock
        self._url = url
        self._masker = Masker(connection_secrets(url))
        self._own_writes = 0
        self._bound = _Bound()
        self._kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in url:
            self._kwargs["connect_timeout"] = CONNECT_TIMEOUT
        if "application_name" not in url:
            self._kwargs["application_name"] = "notify"
        self._migrate()
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            kwargs=self._kwargs,
            min_size=1,
            max_size=max_connections,
            open=False,
            timeout=CONNECT_TIMEOUT,
            name="notify",
        )
        self._pool.open(wait=False)

    def __repr__(self) -> str:
        return f"<PostgresStore {self.location}>"

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self._url, **self._kwargs)
        except psycopg.Error as exc:
            detail = one_line(self._masker.text(str(exc))) or type(exc).__name__
            raise StoreError(f"cannot open database {self.location}: {detail}") from None

    def _migrate(self) -> None:
        """Bring the schema up to :data:`SCHEMA_VERSION`; refuse a newer one."""
        with self._connect() as conn, self._errors():
            version = self._version(conn)
            if version == SCHEMA_VERSION:
                return
            if version < SCHEMA_VERSION:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                    conn.execute(
                        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
                    )
                    version = self._version(conn)  # another process may have migrated
                    for target in range(version + 1, SCHEMA_VERSION + 1):
                        for statement in MIGRATIONS[target].split(";"):
                            if statement.strip():
                                conn.execute(statement)
                    if version < SCHEMA_VERSION:
                        conn.execute("DELETE FROM schema_version")
                        conn.execute(
                            "INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION,)
                        )
                    version = max(version, SCHEMA_VERSION)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database {self.location} has schema {version}, newer than this "
                f"notify ({SCHEMA_VERSION}); upgrade notify-core"
            )

    @staticmethod
    def _version(conn: psycopg.Connection[Any]) -> int:
        exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return 0
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def close(self) -> None:
        self._pool.close()

    def ready(self) -> str | None:
        """Not ready when the server does not answer or another notify moved the schema on."""
        try:
            with self._statement() as conn:
                version = self._version(conn)
        except StoreError as exc:
            return str(exc)
        if version != SCHEMA_VERSION:
            return (
                f"database {self.location} has schema {version}, this notify needs {SCHEMA_VERSION}"
            )
        return None

    def changes(self) -> int:
        """Own writes, plus a tick a second: another host's switch is seen within a second.

        PostgreSQL has no cheap "did anything change" counter to read per message; a
        second of staleness for other hosts' ``notify disable`` is the price of reading
        switches and silences once a second instead of once a message.
        """
        return self._own_writes * 1_000_003 + int(self.clock.monotonic())

    @contextmanager
    def transaction(self, *, isolated: bool = True) -> Iterator[psycopg.Connection[Any]]:
        with self._write(isolated=isolated) as conn:
            yield conn

    def wakeups(self) -> Wakeups:
        return PgWakeups(self._url, {**self._kwargs, "keepalives_idle": 30})
