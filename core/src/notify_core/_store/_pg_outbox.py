"""SQL for the ``deliveries`` and ``attempts`` tables in PostgreSQL: the outbox and the audit log.

The statements mirror :mod:`._sqlite_outbox`; what differs is PostgreSQL's: claims lock
the rows they take with ``FOR UPDATE SKIP LOCKED`` (workers on many hosts never wait for
each other, nor take a row twice), ``LEAST``/``GREATEST`` for SQLite's two-argument
``MIN``/``MAX``, ``IS NOT DISTINCT FROM`` for ``IS``, an upsert for ``INSERT OR REPLACE``,
and a glob turned into a regular expression. Accepting pending work ``NOTIFY``s idle
workers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ._pg_base import NOW_US, PgBase
from ._records import (
    EXCERPT_LIMIT,
    AttemptRow,
    DeliveryRow,
    DeliveryStatus,
    NewDelivery,
    columns,
    mapper,
)

_COLUMNS = ", ".join(columns(DeliveryRow))
_SELECT = f"SELECT {_COLUMNS} FROM deliveries"
_RETURNING = ", ".join(f"d.{c}" for c in columns(DeliveryRow))
_row = mapper(DeliveryRow)
_attempt = mapper(AttemptRow)
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


def glob_regex(pattern: str) -> str:
    """A GLOB pattern (``*``, ``?``, ``[…]``, case-sensitive) as an anchored POSIX regex."""
    out = ["^"]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            if body.startswith(("!", "^")):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", char))
        i += 1
    return "".join(out) + "$"


class OutboxPG(PgBase):
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
            )
            for d in deliveries
        ]
        if not rows:
            return
        with self._write() as conn, conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO deliveries (id, message_id, created, updated, event, severity,"
                " tenant, channel, provider, target, message, payload, status, next_attempt,"
                " lease_owner, lease_until, dedup_key, last_error)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                rows,
            )
            if any(d.status == "pending" for d in deliveries):
                self._wake_workers()

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
        with self._write() as conn:
            conn.execute(
                "INSERT INTO attempts (delivery_id, number, started, duration, http_status,"
                " outcome, error, response) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)"
                " ON CONFLICT (delivery_id, number) DO UPDATE SET started = EXCLUDED.started,"
                " duration = EXCLUDED.duration, http_status = EXCLUDED.http_status,"
                " outcome = EXCLUDED.outcome, error = EXCLUDED.error,"
                " response = EXCLUDED.response",
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
            conn.execute(
                "UPDATE deliveries SET status = %s, attempts = %s, next_attempt = %s,"
                " lease_owner = %s, lease_until = %s, last_error = %s, last_status = %s,"
                " updated = %s, meta = COALESCE(%s, meta), throttled = throttled + %s"
                " WHERE id = %s",
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
        with self._write() as conn:
            conn.execute(
                "UPDATE deliveries SET status = %s, last_error = %s, lease_owner = NULL,"
                " lease_until = NULL, next_attempt = NULL, updated = %s WHERE id = %s",
                (status, reason, self.clock.time(), delivery_id),
            )

    def postpone(self, delivery_id: str, owner: str, *, until: float, reason: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE deliveries SET status = 'pending', next_attempt = %s, lease_owner = NULL,"
                " lease_until = NULL, last_error = %s, updated = %s"
                " WHERE id = %s AND status = 'sending' AND lease_owner = %s",
                (until, reason, self.clock.time(), delivery_id, owner),
            )
            return cursor.rowcount > 0

    def overdue(self, *, before: float, limit: int, pending: bool = True) -> list[str]:
        now = self.clock.time()
        with self._write() as conn:
            found = conn.execute(
                "UPDATE deliveries SET status = 'pending', lease_owner = NULL,"
                " lease_until = NULL, next_attempt = %(now)s, updated = %(now)s"
                " WHERE id IN (SELECT id FROM deliveries WHERE"
                " (status = 'pending' AND next_attempt < %(before)s AND %(pending)s)"
                " OR (status = 'sending' AND lease_until < %(before)s)"
                " ORDER BY next_attempt LIMIT %(limit)s FOR UPDATE SKIP LOCKED) RETURNING id",
                {"now": now, "before": before, "pending": pending, "limit": limit},
            ).fetchall()
        return [row[0] for row in found]

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

    def next_due(self) -> float | None:
        with self._statement() as conn:
            row = conn.execute(
                "SELECT (SELECT MIN(next_attempt) FROM deliveries WHERE status = 'pending'),"
                " (SELECT MIN(lease_until) FROM deliveries WHERE status = 'sending')"
            ).fetchone()
        times = [t for t in (row or ()) if t is not None]
        return min(times) if times else None

    # -- reading the log -------------------------------------------------------------

    def get(self, delivery_id: str) -> DeliveryRow | None:
        with self._statement() as conn:
            row = conn.execute(_SELECT + " WHERE id = %s", (delivery_id,)).fetchone()
        return _row(row) if row else None

    def find(self, prefix: str) -> list[DeliveryRow]:
        # ids are C-collated (the schema), so a range is a prefix and uses the key
        with self._statement() as conn:
            rows = conn.execute(
                _SELECT + " WHERE id >= %s AND id < %s ORDER BY id LIMIT 2",
                (prefix, prefix + "\uffff"),
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
                where.append(f"{column} = %s")
                args.append(value)
        if event is not None:
            where.append("event ~ %s")
            args.append(glob_regex(event))
        if since is not None:
            where.append("created >= %s")
            args.append(since)
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created DESC, id DESC"
        if limit is not None:
            sql += " LIMIT %s"
            args.append(limit)
        with self._statement() as conn:
            return [_row(r) for r in conn.execute(sql, args).fetchall()]

    def attempts(self, delivery_id: str) -> list[AttemptRow]:
        with self._statement() as conn:
            rows = conn.execute(
                f"SELECT {', '.join(columns(AttemptRow))} FROM attempts WHERE delivery_id = %s"
                " ORDER BY number",
                (delivery_id,),
            ).fetchall()
        return [_attempt(r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self._statement() as conn:
            rows = conn.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
            return {status: int(n) for status, n in rows.fetchall()}

    def prune(self, before: float) -> int:
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM deliveries WHERE created < %s"
                " AND status IN ('delivered', 'failed', 'skipped')",
                (before,),
            )
            # idle rate-limit state too (a past TAT is as good as no row)
            conn.execute(f"DELETE FROM rate_limits WHERE tat < {NOW_US}")
            return cursor.rowcount

    def latest(self, channel: str, tenant: str | None, dedup_key: str, since: float) -> str | None:
        with self._statement() as conn:
            row = conn.execute(
                "SELECT id FROM deliveries WHERE channel = %s"
                " AND tenant IS NOT DISTINCT FROM %s AND dedup_key = %s AND created >= %s"
                " AND status IN ('pending', 'sending', 'delivered')"
                " ORDER BY created DESC LIMIT 1",
                (channel, tenant, dedup_key, since),
            ).fetchone()
        return str(row[0]) if row else None
