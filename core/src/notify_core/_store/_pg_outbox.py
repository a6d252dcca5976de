"""SQL for claiming deliveries from PostgreSQL: row locks, so that many hosts share one outbox.

Claims lock the rows they take with ``FOR UPDATE SKIP LOCKED``: workers on many hosts
never wait for each other, nor take a row twice. One statement takes many ids
(``= ANY(%s)``), and accepting pending work ``NOTIFY``s idle workers. Everything else
about the outbox is shared with SQLite (:mod:`._deliveries`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ._deliveries import DeliveriesSQL
from ._deliveries import row as _row
from ._pg_base import PgBase
from ._records import DeliveryRow, columns

_RETURNING = ", ".join(f"d.{c}" for c in columns(DeliveryRow))
_LEASE = "status = 'sending', lease_owner = %s, lease_until = %s, updated = %s"
#: The due rows, as two index range scans (``deliveries_due``, ``deliveries_lease``) that
#: stop at the limit: one ``OR`` condition would scan and sort every pending row.
_DUE = (
    "WITH pending AS (SELECT id, next_attempt FROM deliveries"
    " WHERE status = 'pending' AND next_attempt <= %(now)s"
    " ORDER BY next_attempt LIMIT %(limit)s FOR UPDATE SKIP LOCKED),"
    " expired AS (SELECT id, next_attempt FROM deliveries"
    " WHERE status = 'sending' AND lease_until < %(now)s"
    " ORDER BY lease_until LIMIT %(limit)s FOR UPDATE SKIP LOCKED),"
    " due AS (SELECT id FROM (SELECT * FROM pending UNION ALL SELECT * FROM expired) AS both_"
    " ORDER BY next_attempt LIMIT %(limit)s)"
)


class OutboxPG(DeliveriesSQL, PgBase):
    def claim(self, owner: str, *, limit: int, lease: float) -> list[DeliveryRow]:
        now = self.clock.time()
        with self._write() as conn:
            found = conn.execute(
                f"{_DUE} UPDATE deliveries d SET status = 'sending', lease_owner = %(owner)s,"
                " lease_until = %(until)s, updated = %(now)s FROM due WHERE d.id = due.id"
                f" RETURNING {_RETURNING}",
                {"now": now, "limit": limit, "owner": owner, "until": now + lease},
            ).fetchall()
        rows = [_row(r) for r in found]
        rows.sort(key=lambda r: (r.next_attempt or 0, r.id))
        return rows

    def claim_ids(self, owner: str, ids: Sequence[str], *, lease: float) -> list[DeliveryRow]:
        if not ids:
            return []
        now = self.clock.time()
        with self._write() as conn:
            found = conn.execute(
                f"UPDATE deliveries d SET {_LEASE} WHERE id = ANY(%s) AND (status = 'pending'"
                f" OR (status = 'sending' AND lease_until < %s)) RETURNING {_RETURNING}",
                (owner, now + lease, now, list(ids), now),
            ).fetchall()
        order = {delivery_id: i for i, delivery_id in enumerate(ids)}
        return sorted((_row(r) for r in found), key=lambda r: order[r.id])

    def release(self, ids: Iterable[str], owner: str) -> int:
        ids = list(ids)
        if not ids:
            return 0
        now = self.clock.time()
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE deliveries SET status = 'pending', lease_owner = NULL,"
                " lease_until = NULL, next_attempt = LEAST(COALESCE(next_attempt, %s), %s),"
                " updated = %s WHERE id = ANY(%s) AND status = 'sending' AND lease_owner = %s",
                (now, now, now, ids, owner),
            )
            released = cursor.rowcount
            if released:
                self._wake_workers()
            return released

    def requeue(self, ids: Iterable[str]) -> list[str]:
        ids = list(ids)
        if not ids:
            return []
        now = self.clock.time()
        with self._write() as conn:
            done = conn.execute(
                "UPDATE deliveries SET status = 'pending', next_attempt = %s, updated = %s,"
                " budget_from = attempts, throttled = 0, requeued = %s"
                " WHERE id = ANY(%s) AND status IN ('failed', 'skipped') RETURNING id",
                (now, now, now, ids),
            ).fetchall()
            if done:
                self._wake_workers()
        found = {r[0] for r in done}
        return [i for i in ids if i in found]
