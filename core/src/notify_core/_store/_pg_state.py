"""SQL for silences and channel state in PostgreSQL (mirrors :mod:`._sqlite_state`)."""

from __future__ import annotations

import attrs

from ._pg_base import PgBase
from ._records import ChannelState, Silence, columns, mapper

_SILENCE_COLUMNS = ", ".join(columns(Silence))
_STATE_COLUMNS = ", ".join(columns(ChannelState))
_silence = mapper(Silence)
_state = mapper(ChannelState)


class StatePG(PgBase):
    # Every write here moves ``changes()``: callers cache these reads until it does.

    def add_silence(self, silence: Silence) -> None:
        self._own_writes += 1
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO silences ({_SILENCE_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s)",
                attrs.astuple(silence),
            )

    def silences(self, *, active_at: float | None = None) -> list[Silence]:
        sql = f"SELECT {_SILENCE_COLUMNS} FROM silences"
        args: tuple[float, ...] = ()
        if active_at is not None:
            sql += " WHERE until > %s"
            args = (active_at,)
        with self._statement() as conn:
            rows = conn.execute(sql + " ORDER BY created DESC", args).fetchall()
        return [_silence(r) for r in rows]

    def remove_silence(self, silence_id: str) -> bool:
        self._own_writes += 1
        with self._write() as conn:
            cursor = conn.execute("DELETE FROM silences WHERE id = %s", (silence_id,))
            return cursor.rowcount > 0

    def channel_state(self, channel: str) -> ChannelState:
        with self._statement() as conn:
            row = conn.execute(
                f"SELECT {_STATE_COLUMNS} FROM channel_state WHERE channel = %s", (channel,)
            ).fetchone()
        return _state(row) if row else ChannelState(channel=channel)

    def channel_states(self) -> dict[str, ChannelState]:
        with self._statement() as conn:
            rows = conn.execute(f"SELECT {_STATE_COLUMNS} FROM channel_state").fetchall()
        return {state.channel: state for state in map(_state, rows)}

    def note_success(self, channel: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO channel_state (channel, last_success) VALUES (%s, %s)"
                " ON CONFLICT (channel) DO UPDATE SET consecutive_failures = 0,"
                " last_success = EXCLUDED.last_success",
                (channel, self.clock.time()),
            )

    def note_failure(self, channel: str, reason: str) -> int:
        with self._write() as conn:
            row = conn.execute(
                "INSERT INTO channel_state AS s (channel, consecutive_failures, last_failure,"
                " last_error) VALUES (%s, 1, %s, %s) ON CONFLICT (channel) DO UPDATE SET"
                " consecutive_failures = s.consecutive_failures + 1,"
                " last_failure = EXCLUDED.last_failure, last_error = EXCLUDED.last_error"
                " RETURNING consecutive_failures",
                (channel, self.clock.time(), reason),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def auto_disable(self, channel: str, reason: str) -> bool:
        self._own_writes += 1
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE channel_state SET auto_disabled = 1, disabled_reason = %s"
                " WHERE channel = %s AND auto_disabled = 0",
                (reason, channel),
            )
            return cursor.rowcount > 0

    def set_enabled(self, channel: str, enabled: bool, reason: str | None = None) -> None:
        self._own_writes += 1
        with self._write() as conn:
            if enabled:
                conn.execute(
                    "INSERT INTO channel_state (channel) VALUES (%s) ON CONFLICT (channel)"
                    " DO UPDATE SET disabled = 0, auto_disabled = 0, disabled_reason = NULL,"
                    " consecutive_failures = 0",
                    (channel,),
                )
            else:
                conn.execute(
                    "INSERT INTO channel_state (channel, disabled, disabled_reason)"
                    " VALUES (%s, 1, %s) ON CONFLICT (channel) DO UPDATE SET disabled = 1,"
                    " disabled_reason = EXCLUDED.disabled_reason",
                    (channel, reason or "disabled by hand"),
                )
