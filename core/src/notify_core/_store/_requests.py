"""SQL for the ``idempotency`` table: answers to requests that carried an Idempotency-Key.

A claim is one upsert, atomic on any backend: it inserts the key, or takes over a claim
whose holder died (no answer after ``stale_after``); only when it did neither is the
record already there read and returned. One text for both backends (see
:mod:`._sql_base`).
"""

from __future__ import annotations

from .._errors import StoreError
from ._records import IdempotencyRecord, columns, mapper
from ._sql_base import SqlBase

_COLUMNS = ", ".join(columns(IdempotencyRecord))
_record = mapper(IdempotencyRecord)
#: Attempts at a claim while the key keeps vanishing between the upsert and the read
#: (released by its holder each time): more than a couple means something is wrong.
_TRIES = 5


class RequestsSQL(SqlBase):
    def idempotency_claim(
        self, key: str, fingerprint: str, *, stale_after: float
    ) -> IdempotencyRecord | None:
        now = self.clock.time()
        for _ in range(_TRIES):
            with self._write() as db:
                taken = db.execute(
                    self._sql(
                        "INSERT INTO idempotency (key, fingerprint, created) VALUES (?, ?, ?)"
                        " ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint,"
                        " created = excluded.created"
                        " WHERE idempotency.answer IS NULL AND idempotency.created < ?"
                        " RETURNING key"
                    ),
                    (key, fingerprint, now, now - stale_after),
                ).fetchone()
                if taken is not None:  # a new key, or one whose holder died unanswered
                    return None
                row = db.execute(
                    self._sql(f"SELECT {_COLUMNS} FROM idempotency WHERE key = ?"), (key,)
                ).fetchone()
            if row is not None:
                found: IdempotencyRecord = _record(row)
                return found
        raise StoreError("an idempotency key keeps being released while it is claimed")

    def idempotency_complete(self, key: str, *, status: int, answer: str) -> None:
        with self._write() as db:
            db.execute(
                self._sql("UPDATE idempotency SET status = ?, answer = ? WHERE key = ?"),
                (status, answer, key),
            )

    def idempotency_release(self, key: str) -> None:
        with self._write() as db:
            db.execute(
                self._sql("DELETE FROM idempotency WHERE key = ? AND answer IS NULL"), (key,)
            )

    def idempotency_prune(self, before: float) -> int:
        with self._write() as db:
            cursor = db.execute(self._sql("DELETE FROM idempotency WHERE created < ?"), (before,))
            return int(cursor.rowcount)
