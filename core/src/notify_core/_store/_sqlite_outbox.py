"""SQL for the ``deliveries`` and ``attempts`` tables: the outbox and the audit log."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
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
from ._sqlite_base import SqliteBase

_COLUMNS = ", ".join(columns(DeliveryRow))
_SELECT = f"SELECT {_COLUMNS} FROM deliveries"
_row = mapper(DeliveryRow)
_attempt = mapper(AttemptRow)
_LEASE = "status = 'sending', lease_owner = ?, lease_until = ?, updated = ?"


class OutboxSQL(SqliteBase):
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
        with self._write() as db:
            db.executemany(
                "INSERT INTO deliveries (id, message_id, created, updated, event, severity,"
                " tenant, channel, provider, target, message, payload, status, next_attempt,"
                " lease_owner, lease_until, dedup_key, last_error, thread_key)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )

    def claim(self, owner: str, *, limit: int, lease: float) -> list[DeliveryRow]:
        now = self.clock.time()
        with self._write() as db:
            cursor = db.execute(
                f"UPDATE deliveries SET {_LEASE} WHERE id IN (SELECT id FROM deliveries WHERE"
                " (status = 'pending' AND next_attempt <= ?)"
                " OR (status = 'sending' AND lease_until < ?)"
                f" ORDER BY next_attempt LIMIT ?) RETURNING {_COLUMNS}",
                (owner, now + lease, now, now, now, limit),
            )
            rows = [_row(r) for r in cursor.fetchall()]
        rows.sort(key=lambda r: (r.next_attempt or 0, r.id))
        return rows

    def claim_ids(self, owner: str, ids: Sequence[str], *, lease: float) -> list[DeliveryRow]:
        now = self.clock.time()
        claimed: list[DeliveryRow] = []
        with self._write() as db:
            for delivery_id in ids:
                row = db.execute(
                    f"UPDATE deliveries SET {_LEASE} WHERE id = ? AND (status = 'pending'"
                    f" OR (status = 'sending' AND lease_until < ?)) RETURNING {_COLUMNS}",
                    (owner, now + lease, now, delivery_id, now),
                ).fetchone()
                if row is not None:
                    claimed.append(_row(row))
        return claimed

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
                "INSERT OR REPLACE INTO attempts (delivery_id, number, started, duration,"
                " http_status, outcome, error, response) VALUES (?,?,?,?,?,?,?,?)",
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
                "UPDATE deliveries SET status = ?, attempts = ?, next_attempt = ?,"
                " lease_owner = ?, lease_until = ?, last_error = ?, last_status = ?,"
                " updated = ?, meta = COALESCE(?, meta), throttled = throttled + ?"
                " WHERE id = ?",
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
                "UPDATE deliveries SET status = ?, last_error = ?, lease_owner = NULL,"
                " lease_until = NULL, next_attempt = NULL, updated = ? WHERE id = ?",
                (status, reason, self.clock.time(), delivery_id),
            )

    def release(self, ids: Iterable[str], owner: str) -> int:
        ids = list(ids)
        if not ids:
            return 0
        now = self.clock.time()
        with self._write() as db:
            cursor = db.executemany(
                "UPDATE deliveries SET status = 'pending', lease_owner = NULL,"
                " lease_until = NULL, next_attempt = MIN(COALESCE(next_attempt, ?), ?),"
                " updated = ? WHERE id = ? AND status = 'sending' AND lease_owner = ?",
                [(now, now, now, i, owner) for i in ids],
            )
            return cursor.rowcount

    def overdue(self, *, before: float, limit: int, pending: bool = True) -> list[str]:
        now = self.clock.time()
        with self._write() as db:
            cursor = db.execute(
                "UPDATE deliveries SET status = 'pending', lease_owner = NULL,"
                " lease_until = NULL, next_attempt = ?, updated = ?"
                " WHERE id IN (SELECT id FROM deliveries WHERE"
                " (status = 'pending' AND next_attempt < ? AND ?)"
                " OR (status = 'sending' AND lease_until < ?)"
                " ORDER BY next_attempt LIMIT ?) RETURNING id",
                (now, now, before, pending, before, limit),
            )
            return [row[0] for row in cursor.fetchall()]

    def requeue(self, ids: Iterable[str]) -> list[str]:
        done: list[str] = []
        now = self.clock.time()
        with self._write() as db:
            for delivery_id in ids:
                cursor = db.execute(
                    "UPDATE deliveries SET status = 'pending', next_attempt = ?, updated = ?,"
                    " budget_from = attempts, throttled = 0, requeued = ?"
                    " WHERE id = ? AND status IN ('failed', 'skipped')",
                    (now, now, now, delivery_id),
                )
                if cursor.rowcount:
                    done.append(delivery_id)
        return done

    def next_due(self) -> float | None:
        pending, lease = self._db.execute(
            "SELECT (SELECT MIN(next_attempt) FROM deliveries WHERE status = 'pending'),"
            " (SELECT MIN(lease_until) FROM deliveries WHERE status = 'sending')"
        ).fetchone()
        times = [t for t in (pending, lease) if t is not None]
        return min(times) if times else None

    # -- reading the log -------------------------------------------------------------

    def get(self, delivery_id: str) -> DeliveryRow | None:
        row = self._db.execute(_SELECT + " WHERE id = ?", (delivery_id,)).fetchone()
        return _row(row) if row else None

    def find(self, prefix: str) -> list[DeliveryRow]:
        rows = self._db.execute(
            _SELECT + " WHERE id >= ? AND id < ? ORDER BY id LIMIT 2", (prefix, prefix + "\uffff")
        ).fetchall()
        return [_row(r) for r in rows]

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
            where.append("event GLOB ?")
            args.append(event)
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
        return [_row(r) for r in self._db.execute(sql, args).fetchall()]

    def attempts(self, delivery_id: str) -> list[AttemptRow]:
        cursor = self._db.execute(
            f"SELECT {', '.join(columns(AttemptRow))} FROM attempts WHERE delivery_id = ?"
            " ORDER BY number",
            (delivery_id,),
        )
        return [_attempt(r) for r in cursor.fetchall()]

    def counts(self) -> dict[str, int]:
        return dict(
            self._db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall()
        )

    def oldest_pending(self) -> float | None:
        (created,) = self._db.execute(
            "SELECT MIN(created) FROM deliveries WHERE status IN ('pending', 'sending')"
        ).fetchone()
        return float(created) if created is not None else None

    def prune(self, before: float, *, dry_run: bool = False) -> int:
        where = "WHERE created < ? AND status IN ('delivered', 'failed', 'skipped')"
        if dry_run:
            row = self._db.execute(f"SELECT COUNT(*) FROM deliveries {where}", (before,))
            return int(row.fetchone()[0])
        with self._write() as db:
            db.execute("DELETE FROM threads WHERE updated < ?", (before,))
            removed = db.execute(f"DELETE FROM deliveries {where}", (before,)).rowcount
            # idle rate-limit state too (a past TAT is as good as no row)
            db.execute("DELETE FROM rate_limits WHERE tat < ?", (round(self.clock.time() * 1e6),))
            return removed

    def latest(self, channel: str, tenant: str | None, dedup_key: str, since: float) -> str | None:
        row = self._db.execute(
            "SELECT id FROM deliveries WHERE channel = ? AND tenant IS ? AND dedup_key = ?"
            " AND created >= ? AND status IN ('pending', 'sending', 'delivered')"
            " ORDER BY created DESC LIMIT 1",
            (channel, tenant, dedup_key, since),
        ).fetchone()
        return row[0] if row else None
