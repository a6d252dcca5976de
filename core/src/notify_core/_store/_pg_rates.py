"""SQL for the ``rate_limits`` table in PostgreSQL: one pace per destination for every host.

``now`` is the database server's clock (``clock_timestamp()``), read inside the statement
that updates the row: workers on many hosts need not agree on the time, only the server
does, as Redis's ``TIME`` does for :class:`~notify_core._limits_redis.RedisLimiter`. The
upsert locks the destination's row, so concurrent reservations from any host queue up
behind each other; a ``now`` read while waiting for that lock is early, which only
makes the wait longer, never the pace faster.
"""

from __future__ import annotations

from typing import Any

from .._limits_gcra import gcra_delays
from ._pg_base import NOW_US, PgBase
from ._rates import US, rate_key


class RatesPG(PgBase):
    # One statement each, atomic by itself: outside a batch it runs on its own (autocommit),
    # so the destination's row is locked for that statement only, not for a whole batch.

    def reserve_slots(
        self, destination: str, interval: int, burst: int, count: int = 1
    ) -> list[float]:
        step = interval * count
        with self._statement() as conn:
            row = conn.execute(
                f"WITH clock AS (SELECT {NOW_US} AS now)"
                " INSERT INTO rate_limits AS r (key, tat) SELECT %s, clock.now + %s FROM clock"
                " ON CONFLICT (key) DO UPDATE"
                " SET tat = GREATEST(r.tat, (SELECT now FROM clock)) + %s"
                " RETURNING r.tat, (SELECT now FROM clock)",
                (rate_key(destination), step, step),
            ).fetchone()
        assert row is not None
        tat, now = row
        return [d / US for d in gcra_delays(int(tat), int(now), interval, burst, count)]

    def unreserve_slot(self, destination: str, interval: int) -> None:
        with self._statement() as conn:
            conn.execute(
                f"UPDATE rate_limits SET tat = GREATEST(tat - %s, {NOW_US}) WHERE key = %s",
                (interval, rate_key(destination)),
            )

    def _prune_rates(self, db: Any) -> None:
        db.execute(f"DELETE FROM rate_limits WHERE tat < {NOW_US}")
