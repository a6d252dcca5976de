"""SQL for threads: what a provider returned for a thread key, and the hold before it exists.

One row per (channel key, thread key). Until the thread's first message is delivered
the row names its ``starter`` (the delivery sending it) and has no ``data``; the first
delivered message's :attr:`~notify_core.plugin.Outcome.thread` fills ``data`` once
(``… WHERE data IS NULL``: the first one wins). The messages of one thread go one at a
time, in the order they were accepted: a delivery waits while an earlier one of its
thread is still open. Every decision is made inside one
``BEGIN IMMEDIATE`` transaction (the dispatcher's :class:`~notify_core._writer.BatchWriter`
call), so two processes can never both start the same thread.
"""

from __future__ import annotations

import json
from typing import Any

from ._records import ThreadTurn
from ._sqlite_base import SqliteBase

#: The open delivery of a thread accepted just before a given one (the hold's query;
#: ``deliveries_thread`` serves it).
AHEAD = (
    "SELECT id, status, next_attempt FROM deliveries WHERE channel = ? AND thread_key = ?"
    " AND tenant IS ? AND status IN ('pending', 'sending') AND id != ?"
    " AND (created < ? OR (created = ? AND rowid < ?))"
    " ORDER BY created DESC, rowid DESC LIMIT 1"
)


def _scope(channel: str, tenant: str | None) -> str:
    """The channel key (``name`` or ``tenant/name``): what a thread belongs to."""
    return f"{tenant}/{channel}" if tenant else channel


class ThreadsSQL(SqliteBase):
    def thread(self, channel: str, tenant: str | None, key: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT data FROM threads WHERE channel = ? AND key = ? AND data IS NOT NULL",
            (_scope(channel, tenant), key),
        ).fetchone()
        return _data(row[0]) if row else None

    def enter_thread(
        self, delivery_id: str, channel: str, tenant: str | None, key: str
    ) -> ThreadTurn:
        scope = _scope(channel, tenant)
        now = self.clock.time()
        with self._write() as db:
            row = db.execute(
                "SELECT data, starter FROM threads WHERE channel = ? AND key = ?", (scope, key)
            ).fetchone()
            data, starter = (row[0], row[1]) if row is not None else (None, None)
            if data is None and starter is not None:
                if starter == delivery_id:  # it started the thread and is being retried
                    return ThreadTurn(step="start")
                holder = db.execute(
                    "SELECT id, status, next_attempt FROM deliveries WHERE id = ?"
                    " AND status IN ('pending', 'sending')",
                    (starter,),
                ).fetchone()
                if holder is not None:
                    return _wait(holder)
            # the one accepted just before this one (created earlier, or in the same instant
            # and inserted first: rowid grows with inserts, ids are random within a
            # millisecond): each waits for its predecessor, so a thread's backlog wakes
            # one delivery at a time, not all of them at every step
            mine = db.execute(
                "SELECT created, rowid FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
            created, rowid = mine if mine is not None else (now, None)
            ahead = db.execute(
                AHEAD, (channel, key, tenant, delivery_id, created, created, rowid)
            ).fetchone()
            if ahead is not None:
                return _wait(ahead)
            if data is not None:
                db.execute(
                    "UPDATE threads SET updated = ? WHERE channel = ? AND key = ?",
                    (now, scope, key),
                )
                return ThreadTurn(step="join", data=_data(data))
            db.execute(
                "INSERT INTO threads (channel, key, created, updated, starter)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, key) DO UPDATE SET"
                " starter = excluded.starter, updated = excluded.updated",
                (scope, key, now, now, delivery_id),
            )
            return ThreadTurn(step="start")

    def keep_thread(self, channel: str, tenant: str | None, key: str, data: dict[str, Any]) -> bool:
        now = self.clock.time()
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO threads (channel, key, created, updated, data) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (channel, key) DO UPDATE SET data = excluded.data,"
                " updated = excluded.updated WHERE threads.data IS NULL",
                (_scope(channel, tenant), key, now, now, json.dumps(data, ensure_ascii=False)),
            )
            return cursor.rowcount > 0

    def end_thread(self, channel: str, tenant: str | None, key: str) -> None:
        with self._write() as db:
            db.execute(
                "DELETE FROM threads WHERE channel = ? AND key = ?", (_scope(channel, tenant), key)
            )

    def postpone(self, delivery_id: str, owner: str, *, until: float, reason: str) -> bool:
        with self._write() as db:
            cursor = db.execute(
                "UPDATE deliveries SET status = 'pending', next_attempt = ?, lease_owner = NULL,"
                " lease_until = NULL, last_error = ?, updated = ?"
                " WHERE id = ? AND status = 'sending' AND lease_owner = ?",
                (until, reason, self.clock.time(), delivery_id, owner),
            )
            return cursor.rowcount > 0


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
