"""SQL for the ``idempotency`` table: answers to requests that carried an Idempotency-Key."""

from __future__ import annotations

from ._records import IdempotencyRecord, columns, mapper
from ._sqlite_base import SqliteBase

_COLUMNS = ", ".join(columns(IdempotencyRecord))
_record = mapper(IdempotencyRecord)


class RequestsSQL(SqliteBase):
    def idempotency_claim(
        self, key: str, fingerprint: str, *, stale_after: float
    ) -> IdempotencyRecord | None:
        now = self.clock.time()
        with self._write() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM idempotency WHERE key = ?", (key,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO idempotency (key, fingerprint, created) VALUES (?, ?, ?)",
                    (key, fingerprint, now),
                )
                return None
            found: IdempotencyRecord = _record(row)
            if found.answer is None and found.created < now - stale_after:
                # its holder died between claiming and answering: the key is free again
                db.execute(
                    "UPDATE idempotency SET fingerprint = ?, created = ? WHERE key = ?",
                    (fingerprint, now, key),
                )
                return None
            return found

    def idempotency_complete(self, key: str, *, status: int, answer: str) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE idempotency SET status = ?, answer = ? WHERE key = ?",
                (status, answer, key),
            )

    def idempotency_release(self, key: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM idempotency WHERE key = ? AND answer IS NULL", (key,))

    def idempotency_prune(self, before: float) -> int:
        with self._write() as db:
            return db.execute("DELETE FROM idempotency WHERE created < ?", (before,)).rowcount
