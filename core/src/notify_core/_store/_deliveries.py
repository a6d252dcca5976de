"""SQL for the ``deliveries`` and ``attempts`` tables that both backends run alike.

Accepting deliveries, recording attempts, and reading the log are one text for SQLite and
PostgreSQL (see :mod:`._sql_base`). What differs is how due rows are claimed and how many
ids one statement takes: :mod:`._sqlite_outbox` and :mod:`._pg_outbox` hold that.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ._records import (
    EXCERPT_LIMIT,
    AttemptRow,
    DeliveryRow,
    DeliveryStatus,
    NewDelivery,
    columns,
    mapper,
)
from ._sql_base import SqlBase

COLUMNS = ", ".join(columns(DeliveryRow))
_SELECT = f"SELECT {COLUMNS} FROM deliveries"
row = mapper(DeliveryRow)
_attempt = mapper(AttemptRow)
_FINAL = "status IN ('delivered', 'failed', 'skipped')"


class DeliveriesSQL(SqlBase):
    def add(
        self, deliveries: Sequence[NewDelivery], *, owner: str | None = None, lease: float = 60.0
    ) -> None:
        now = self.clock.time()
        rows = [
            (
                d.id,
                d.message_id,
                now,
                now,
                d.event,
                d.severity,
                d.tenant,
                d.channel,
                d.provider,
                d.target,
                d.message,
                d.payload,
                d.status,
                now if d.status in ("pending", "sending") else None,
                owner if d.status == "sending" else None,
                now + lease if d.status == "sending" else None,
                d.dedup_key,
                d.last_error,
                d.thread_key,
            )
            for d in deliveries
        ]
        if not rows:
            return
        with self._write() as db:
            self._executemany(
                db,
                self._sql(
                    "INSERT INTO deliveries (id, message_id, created, updated, event, severity,"
                    " tenant, channel, provider, target, message, payload, status, next_attempt,"
                    " lease_owner, lease_until, dedup_key, last_error, thread_key)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                ),
                rows,
            )
            if any(d.status == "pending" for d in deliveries):
                self._wake_workers()

    def record_attempt(
        self,
        attempt: AttemptRow,
        *,
        status: DeliveryStatus,
        owner: str | None,
        next_attempt: float | None = None,
        lease_until: float | None = None,
        meta: dict[str, Any] | None = None,
        throttled: bool = False,
    ) -> None:
        sending = status == "sending"
        with self._write() as db:
            db.execute(
                self._sql(
                    "INSERT INTO attempts (delivery_id, number, started, duration, http_status,"
                    " outcome, error, response) VALUES (?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (delivery_id, number) DO UPDATE SET started = excluded.started,"
                    " duration = excluded.duration, http_status = excluded.http_status,"
                    " outcome = excluded.outcome, error = excluded.error,"
                    " response = excluded.response"
                ),
                (
                    attempt.delivery_id,
                    attempt.number,
                    attempt.started,
                    attempt.duration,
                    attempt.http_status,
                    attempt.outcome,
                    attempt.error,
                    (attempt.response or "")[:EXCERPT_LIMIT] or None,
                ),
            )
            db.execute(
                self._sql(
                    "UPDATE deliveries SET status = ?, attempts = ?, next_attempt = ?,"
                    " lease_owner = ?, lease_until = ?, last_error = ?, last_status = ?,"
                    " updated = ?, meta = COALESCE(?, meta), throttled = throttled + ?"
                    " WHERE id = ?"
                ),
                (
                    status,
                    attempt.number,
                    next_attempt,
                    owner if sending else None,
                    lease_until if sending else None,
                    attempt.error if status != "delivered" else None,
                    attempt.http_status,
                    self.clock.time(),
                    json.dumps(meta) if meta else None,
                    int(throttled),
                    attempt.delivery_id,
                ),
            )

    def finish(self, delivery_id: str, *, status: DeliveryStatus, reason: str) -> None:
        with self._write() as db:
            db.execute(
                self._sql(
                    "UPDATE deliveries SET status = ?, last_error = ?, lease_owner = NULL,"
                    " lease_until = NULL, next_attempt = NULL, updated = ? WHERE id = ?"
                ),
                (status, reason, self.clock.time(), delivery_id),
            )

    def postpone(self, delivery_id: str, owner: str, *, until: float, reason: str) -> bool:
        with self._write() as db:
            cursor = db.execute(
                self._sql(
                    "UPDATE deliveries SET status = 'pending', next_attempt = ?,"
                    " lease_owner = NULL, lease_until = NULL, last_error = ?, updated = ?"
                    " WHERE id = ? AND status = 'sending' AND lease_owner = ?"
                ),
                (until, reason, self.clock.time(), delivery_id, owner),
            )
            return bool(cursor.rowcount > 0)

    def overdue(self, *, before: float, limit: int, pending: bool = True) -> list[str]:
        now = self.clock.time()
        with self._write() as db:
            found = db.execute(
                self._sql(
                    "UPDATE deliveries SET status = 'pending', lease_owner = NULL,"
                    " lease_until = NULL, next_attempt = ?, updated = ?"
                    " WHERE id IN (SELECT id FROM deliveries WHERE"
                    " (status = 'pending' AND next_attempt < ? AND ?)"
                    " OR (status = 'sending' AND lease_until < ?)"
                    f" ORDER BY next_attempt LIMIT ?{self._dialect.skip_locked}) RETURNING id"
                ),
                (now, now, before, pending, before, limit),
            ).fetchall()
        return [str(row[0]) for row in found]

    def next_due(self) -> float | None:
        with self._statement() as db:
            found = db.execute(
                "SELECT (SELECT MIN(next_attempt) FROM deliveries WHERE status = 'pending'),"
                " (SELECT MIN(lease_until) FROM deliveries WHERE status = 'sending')"
            ).fetchone()
        times = [float(t) for t in (found or ()) if t is not None]
        return min(times) if times else None

    # -- reading the log -------------------------------------------------------------

    def get(self, delivery_id: str) -> DeliveryRow | None:
        with self._statement() as db:
            found = db.execute(self._sql(_SELECT + " WHERE id = ?"), (delivery_id,)).fetchone()
        return row(found) if found else None

    def find(self, prefix: str) -> list[DeliveryRow]:
        # a key range (PostgreSQL's ids are C-collated, so a range there is a prefix too)
        with self._statement() as db:
            rows = db.execute(
                self._sql(_SELECT + " WHERE id >= ? AND id < ? ORDER BY id LIMIT 2"),
                (prefix, prefix + "\uffff"),
            ).fetchall()
        return [row(r) for r in rows]

    def query(
        self,
        *,
        channel: str | None = None,
        status: DeliveryStatus | None = None,
        event: str | None = None,
        tenant: str | None = None,
        since: float | None = None,
        limit: int | None = 50,
        message_id: str | None = None,
        until: float | None = None,
        before: tuple[float, str] | None = None,
    ) -> list[DeliveryRow]:
        where: list[str] = []
        args: list[Any] = []
        for column, value in (
            ("channel", channel),
            ("status", status),
            ("tenant", tenant),
            ("message_id", message_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if event is not None:
            condition, pattern = self._glob("event", event)
            where.append(condition)
            args.append(pattern)
        if since is not None:
            where.append("created >= ?")
            args.append(since)
        if until is not None:
            where.append("created < ?")
            args.append(until)
        if before is not None:  # the page after a row: strictly older in (created, id) order
            where.append("(created < ? OR (created = ? AND id < ?))")
            args.extend((before[0], before[0], before[1]))
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._statement() as db:
            return [row(r) for r in db.execute(self._sql(sql), args).fetchall()]

    def attempts(self, delivery_id: str) -> list[AttemptRow]:
        with self._statement() as db:
            rows = db.execute(
                self._sql(
                    f"SELECT {', '.join(columns(AttemptRow))} FROM attempts"
                    " WHERE delivery_id = ? ORDER BY number"
                ),
                (delivery_id,),
            ).fetchall()
        return [_attempt(r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self._statement() as db:
            rows = db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
            return {status: int(n) for status, n in rows.fetchall()}

    def oldest_pending(self) -> float | None:
        with self._statement() as db:
            found = db.execute(
                "SELECT MIN(created) FROM deliveries WHERE status IN ('pending', 'sending')"
            ).fetchone()
        return float(found[0]) if found and found[0] is not None else None

    def prune(self, before: float, *, dry_run: bool = False) -> int:
        if dry_run:
            with self._statement() as db:
                found = db.execute(
                    self._sql(f"SELECT COUNT(*) FROM deliveries WHERE created < ? AND {_FINAL}"),
                    (before,),
                ).fetchone()
            return int(found[0])
        with self._write() as db:
            db.execute(self._sql("DELETE FROM threads WHERE updated < ?"), (before,))
            removed = db.execute(
                self._sql(f"DELETE FROM deliveries WHERE created < ? AND {_FINAL}"), (before,)
            ).rowcount
            self._prune_rates(db)
            return int(removed)

    def latest(self, channel: str, tenant: str | None, dedup_key: str, since: float) -> str | None:
        with self._statement() as db:
            found = db.execute(
                self._sql(
                    f"SELECT id FROM deliveries WHERE channel = ? AND tenant {self._dialect.same} ?"
                    " AND dedup_key = ? AND created >= ?"
                    " AND status IN ('pending', 'sending', 'delivered')"
                    " ORDER BY created DESC LIMIT 1"
                ),
                (channel, tenant, dedup_key, since),
            ).fetchone()
        return str(found[0]) if found else None
