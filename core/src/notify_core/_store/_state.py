"""SQL for what several processes must agree on besides the outbox: silences, channel state.

One text for both backends (see :mod:`._sql_base`): these statements mean the same in
SQLite and PostgreSQL. The existing row in an upsert is named by its table
(``channel_state.consecutive_failures``), which both accept and PostgreSQL requires.
"""

from __future__ import annotations

import attrs

from ._records import ChannelState, Silence, columns, mapper
from ._sql_base import SqlBase

_SILENCE_COLUMNS = ", ".join(columns(Silence))
_STATE_COLUMNS = ", ".join(columns(ChannelState))
_silence = mapper(Silence)
_state = mapper(ChannelState)


class StateSQL(SqlBase):
    # Every write here moves ``changes()``: callers cache these reads until it does.

    def add_silence(self, silence: Silence) -> None:
        self._own_writes += 1
        with self._write() as db:
            db.execute(
                self._sql(f"INSERT INTO silences ({_SILENCE_COLUMNS}) VALUES (?,?,?,?,?,?,?)"),
                attrs.astuple(silence),
            )

    def silences(self, *, active_at: float | None = None) -> list[Silence]:
        sql = f"SELECT {_SILENCE_COLUMNS} FROM silences"
        args: tuple[float, ...] = ()
        if active_at is not None:
            sql += " WHERE until > ?"
            args = (active_at,)
        with self._statement() as db:
            rows = db.execute(self._sql(sql + " ORDER BY created DESC"), args).fetchall()
        return [_silence(r) for r in rows]

    def remove_silence(self, silence_id: str) -> bool:
        self._own_writes += 1
        with self._write() as db:
            cursor = db.execute(self._sql("DELETE FROM silences WHERE id = ?"), (silence_id,))
            return bool(cursor.rowcount > 0)

    def channel_state(self, channel: str) -> ChannelState:
        with self._statement() as db:
            row = db.execute(
                self._sql(f"SELECT {_STATE_COLUMNS} FROM channel_state WHERE channel = ?"),
                (channel,),
            ).fetchone()
        return _state(row) if row else ChannelState(channel=channel)

    def channel_states(self) -> dict[str, ChannelState]:
        with self._statement() as db:
            rows = db.execute(f"SELECT {_STATE_COLUMNS} FROM channel_state").fetchall()
        return {state.channel: state for state in map(_state, rows)}

    def note_success(self, channel: str) -> None:
        with self._write() as db:
            db.execute(
                self._sql(
                    "INSERT INTO channel_state (channel, last_success) VALUES (?, ?)"
                    " ON CONFLICT (channel) DO UPDATE SET consecutive_failures = 0,"
                    " last_success = excluded.last_success"
                ),
                (channel, self.clock.time()),
            )

    def note_failure(self, channel: str, reason: str) -> int:
        with self._write() as db:
            (count,) = db.execute(
                self._sql(
                    "INSERT INTO channel_state (channel, consecutive_failures, last_failure,"
                    " last_error) VALUES (?, 1, ?, ?) ON CONFLICT (channel) DO UPDATE SET"
                    " consecutive_failures = channel_state.consecutive_failures + 1,"
                    " last_failure = excluded.last_failure, last_error = excluded.last_error"
                    " RETURNING consecutive_failures"
                ),
                (channel, self.clock.time(), reason),
            ).fetchone()
        return int(count)

    def auto_disable(self, channel: str, reason: str) -> bool:
        self._own_writes += 1
        with self._write() as db:
            cursor = db.execute(
                self._sql(
                    "UPDATE channel_state SET auto_disabled = 1, disabled_reason = ?"
                    " WHERE channel = ? AND auto_disabled = 0"
                ),
                (reason, channel),
            )
            return bool(cursor.rowcount > 0)

    def set_enabled(self, channel: str, enabled: bool, reason: str | None = None) -> None:
        self._own_writes += 1
        with self._write() as db:
            if enabled:
                db.execute(
                    self._sql(
                        "INSERT INTO channel_state (channel) VALUES (?) ON CONFLICT (channel)"
                        " DO UPDATE SET disabled = 0, auto_disabled = 0,"
                        " disabled_reason = NULL, consecutive_failures = 0"
                    ),
                    (channel,),
                )
            else:
                db.execute(
                    self._sql(
                        "INSERT INTO channel_state (channel, disabled, disabled_reason)"
                        " VALUES (?, 1, ?) ON CONFLICT (channel) DO UPDATE SET disabled = 1,"
                        " disabled_reason = excluded.disabled_reason"
                    ),
                    (channel, reason or "disabled by hand"),
                )
