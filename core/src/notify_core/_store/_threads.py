"""SQL for threads: what a provider returned for a thread key, and the hold before it exists.

One row per (channel key, thread key). Until the thread's first message is delivered
the row names its ``starter`` (the delivery sending it) and has no ``data``; the first
delivered message's :attr:`~notify_core.plugin.Outcome.thread` fills ``data`` once
(``… WHERE data IS NULL``: the first one wins). The messages of one thread go one at a
time, in the order they were accepted: a delivery waits while an earlier one of its
thread is still open.

Every decision is made inside one transaction (the dispatcher's
:class:`~notify_core._writer.BatchWriter` call) that holds the thread's lock
(:meth:`~._sql_base.SqlBase._serialize`), so two processes can never both start the same
thread: SQLite's ``BEGIN IMMEDIATE`` is that lock already; PostgreSQL takes an advisory
lock on the thread's name, since the row to lock may not exist yet. Storing and ending
a thread take the same lock, so a decision never reads a thread that changes under it.
One text for both backends (see :mod:`._sql_base`).
"""

from __future__ import annotations

import json
from typing import Any

from ._records import ThreadTurn
from ._sql_base import Dialect, SqlBase


def ahead_query(dialect: Dialect) -> str:
    """The open delivery of a thread accepted just before a given one (``deliveries_thread``
    serves it): created earlier, or in the same instant and inserted first."""
    return (
        "SELECT id, status, next_attempt FROM deliveries WHERE channel = ? AND thread_key = ?"
        f" AND tenant {dialect.same} ? AND status IN ('pending', 'sending') AND id != ?"
        f" AND (created < ? OR (created = ? AND {dialect.arrival} < ?))"
        f" ORDER BY created DESC, {dialect.arrival} DESC LIMIT 1"
    )


def _scope(channel: str, tenant: str | None) -> str:
    """The channel key (``name`` or ``tenant/name``): what a thread belongs to."""
    return f"{tenant}/{channel}" if tenant else channel


class ThreadsSQL(SqlBase):
    def thread(self, channel: str, tenant: str | None, key: str) -> dict[str, Any] | None:
        with self._statement() as db:
            row = db.execute(
                self._sql(
                    "SELECT data FROM threads WHERE channel = ? AND key = ? AND data IS NOT NULL"
                ),
                (_scope(channel, tenant), key),
            ).fetchone()
        return _data(row[0]) if row else None

    def enter_thread(
        self, delivery_id: str, channel: str, tenant: str | None, key: str
    ) -> ThreadTurn:
        scope = _scope(channel, tenant)
        now = self.clock.time()
        sql = self._sql
        with self._write() as db:
            self._serialize(db, f"thread {scope} {key}")
            row = db.execute(
                sql("SELECT data, starter FROM threads WHERE channel = ? AND key = ?"), (scope, key)
            ).fetchone()
            data, starter = (row[0], row[1]) if row is not None else (None, None)
            if data is None and starter is not None:
                if starter == delivery_id:  # it started the thread and is being retried
                    return ThreadTurn(step="start")
                holder = db.execute(
                    sql(
                        "SELECT id, status, next_attempt FROM deliveries WHERE id = ?"
                        " AND status IN ('pending', 'sending')"
                    ),
                    (starter,),
                ).fetchone()
                if holder is not None:
                    return _wait(holder)
            # the one accepted just before this one (created earlier, or in the same instant
            # and inserted first: the arrival column grows with inserts, ids are random
            # within a millisecond): each waits for its predecessor, so a thread's backlog
            # wakes one delivery at a time, not all of them at every step
            arrival = self._dialect.arrival
            mine = db.execute(
                sql(f"SELECT created, {arrival} FROM deliveries WHERE id = ?"), (delivery_id,)
            ).fetchone()
            created, order = (mine[0], mine[1]) if mine is not None else (now, None)
            ahead = db.execute(
                sql(ahead_query(self._dialect)),
                (channel, key, tenant, delivery_id, created, created, order),
            ).fetchone()
            if ahead is not None:
                return _wait(ahead)
            if data is not None:
                db.execute(
                    sql("UPDATE threads SET updated = ? WHERE channel = ? AND key = ?"),
                    (now, scope, key),
                )
                return ThreadTurn(step="join", data=_data(data))
            db.execute(
                sql(
                    "INSERT INTO threads (channel, key, created, updated, starter)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, key) DO UPDATE SET"
                    " starter = excluded.starter, updated = excluded.updated"
                ),
                (scope, key, now, now, delivery_id),
            )
            return ThreadTurn(step="start")

    def keep_thread(self, channel: str, tenant: str | None, key: str, data: dict[str, Any]) -> bool:
        scope = _scope(channel, tenant)
        now = self.clock.time()
        with self._write() as db:
            self._serialize(db, f"thread {scope} {key}")
            cursor = db.execute(
                self._sql(
                    "INSERT INTO threads (channel, key, created, updated, data)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, key) DO UPDATE SET"
                    " data = excluded.data, updated = excluded.updated WHERE threads.data IS NULL"
                ),
                (scope, key, now, now, json.dumps(data, ensure_ascii=False)),
            )
            return bool(cursor.rowcount > 0)

    def end_thread(self, channel: str, tenant: str | None, key: str) -> None:
        scope = _scope(channel, tenant)
        with self._write() as db:
            self._serialize(db, f"thread {scope} {key}")
            db.execute(self._sql("DELETE FROM threads WHERE channel = ? AND key = ?"), (scope, key))


def _wait(holder: tuple[str, str, float | None]) -> ThreadTurn:
    """Wait for ``holder``: not before its next attempt if it is pending for a retry."""
    ident, status, next_attempt = holder
    until = next_attempt if status == "pending" else None
    return ThreadTurn(step="wait", holder=ident, until=until)


def _data(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
