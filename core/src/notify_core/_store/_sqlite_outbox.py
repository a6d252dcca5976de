"""SQL for claiming deliveries from SQLite: one ``UPDATE … RETURNING`` per claim.

``BEGIN IMMEDIATE`` makes writers take turns, so a claim needs no row locks: the rows it
picks cannot be picked by another process before it commits. Everything else about the
outbox is shared with PostgreSQL (:mod:`._deliveries`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ._deliveries import COLUMNS, DeliveriesSQL, row
from ._records import DeliveryRow
from ._sqlite_base import SqliteBase

_LEASE = "status = 'sending', lease_owner = ?, lease_until = ?, updated = ?"


class OutboxSQL(DeliveriesSQL, SqliteBase):
    def claim(self, owner: str, *, limit: int, lease: float) -> list[DeliveryRow]:
        now = self.clock.time()
        with self._write() as db:
            cursor = db.execute(
                f"UPDATE deliveries SET {_LEASE} WHERE id IN (SELECT id FROM deliveries WHERE"
                " (status = 'pending' AND next_attempt <= ?)"
                " OR (status = 'sending' AND lease_until < ?)"
                f" ORDER BY next_attempt LIMIT ?) RETURNING {COLUMNS}",
                (owner, now + lease, now, now, now, limit),
            )
            rows = [row(r) for r in cursor.fetchall()]
        rows.sort(key=lambda r: (r.next_attempt or 0, r.id))
        return rows

    def claim_ids(self, owner: str, ids: Sequence[str], *, lease: float) -> list[DeliveryRow]:
        now = self.clock.time()
        claimed: list[DeliveryRow] = []
        with self._write() as db:
            for delivery_id in ids:
                found = db.execute(
                    f"UPDATE deliveries SET {_LEASE} WHERE id = ? AND (status = 'pending'"
                    f" OR (status = 'sending' AND lease_until < ?)) RETURNING {COLUMNS}",
                    (owner, now + lease, now, delivery_id, now),
                ).fetchone()
                if found is not None:
                    claimed.append(row(found))
        return claimed

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
