"""SQL for the ``rate_limits`` table: GCRA state shared by every process using the file.

``now`` is the store clock's wall time: every process on one host reads the same clock
(SQLite is one host's database), and a test's fake clock drives it.
"""

from __future__ import annotations

from typing import Any

from .._limits_gcra import gcra_delays
from ._rates import US, rate_key
from ._sqlite_base import SqliteBase


class RatesSQL(SqliteBase):
    def reserve_slots(
        self, destination: str, interval: int, burst: int, count: int = 1
    ) -> list[float]:
        now = round(self.clock.time() * US)
        step = interval * count
        with self._write() as db:
            (tat,) = db.execute(
                "INSERT INTO rate_limits (key, tat) VALUES (?, ? + ?) ON CONFLICT (key)"
                " DO UPDATE SET tat = MAX(tat, ?) + ? RETURNING tat",
                (rate_key(destination), now, step, now, step),
            ).fetchone()
        return [d / US for d in gcra_delays(int(tat), now, interval, burst, count)]

    def unreserve_slot(self, destination: str, interval: int) -> None:
        now = round(self.clock.time() * US)
        with self._write() as db:
            db.execute(
                "UPDATE rate_limits SET tat = MAX(tat - ?, ?) WHERE key = ?",
                (interval, now, rate_key(destination)),
            )

    def _prune_rates(self, db: Any) -> None:
        db.execute("DELETE FROM rate_limits WHERE tat < ?", (round(self.clock.time() * US),))
