"""The SQLite store: the outbox and the audit log in one file.

A delivery row exists, ``pending`` or leased as ``sending``, before the first byte
goes out, so a crash anywhere loses nothing: an expired lease makes the row due
again (at-least-once). Claims are a single ``UPDATE … RETURNING`` inside ``BEGIN
IMMEDIATE``, so several processes can share one file without claiming a row twice.

WAL with ``synchronous=NORMAL``: a commit survives a process crash; only an OS crash
or power loss may lose the last transactions (DESIGN §7 has the cost of FULL).
"""

from __future__ import annotations

import fnmatch
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from ._errors import StoreError

SCHEMA_VERSION = 2
EXCERPT_LIMIT = 2048

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE deliveries (
        id            TEXT PRIMARY KEY,
        message_id    TEXT NOT NULL,
        created       REAL NOT NULL,
        updated       REAL NOT NULL,
        event         TEXT NOT NULL DEFAULT '',
        severity      TEXT NOT NULL DEFAULT 'info',
        tenant        TEXT,
        channel       TEXT NOT NULL,
        provider      TEXT NOT NULL,
        target        TEXT NOT NULL DEFAULT '',
        message       TEXT NOT NULL,
        payload       TEXT,
        status        TEXT NOT NULL
                      CHECK (status IN ('pending','sending','delivered','failed','skipped')),
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_attempt  REAL,
        lease_owner   TEXT,
        lease_until   REAL,
        last_error    TEXT,
        last_status   INTEGER,
        dedup_key     TEXT,
        meta          TEXT
    );
    CREATE INDEX deliveries_due ON deliveries (status, next_attempt);
    CREATE INDEX deliveries_created ON deliveries (created);
    CREATE INDEX deliveries_channel ON deliveries (tenant, channel, created);
    CREATE TABLE attempts (
        delivery_id   TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
        number        INTEGER NOT NULL,
        started       REAL NOT NULL,
        duration      REAL NOT NULL,
        http_status   INTEGER,
        outcome       TEXT NOT NULL,
        error         TEXT,
        response      TEXT,
        PRIMARY KEY (delivery_id, number)
    );
    CREATE TABLE channel_state (
        channel               TEXT PRIMARY KEY,
        disabled              INTEGER NOT NULL DEFAULT 0,
        disabled_reason       TEXT,
        auto_disabled         INTEGER NOT NULL DEFAULT 0,
        consecutive_failures  INTEGER NOT NULL DEFAULT 0,
        last_success          REAL,
        last_failure          REAL,
        last_error            TEXT
    );
    """,
    2: """
    CREATE TABLE silences (
        id        TEXT PRIMARY KEY,
        created   REAL NOT NULL,
        until     REAL NOT NULL,
        event     TEXT NOT NULL DEFAULT '*',
        channel   TEXT,
        tenant    TEXT,
        reason    TEXT
    );
    CREATE INDEX silences_until ON silences (until);
    CREATE INDEX deliveries_dedup ON deliveries (channel, dedup_key, created);
    """,
}


def new_id() -> str:
    """Time-ordered and unguessable: 11 hex digits of milliseconds, 10 random."""
    return f"{int(time.time() * 1000):011x}{secrets.token_hex(5)}"


@attrs.frozen(kw_only=True)
class NewDelivery:
    id: str
    message_id: str
    event: str
    severity: str
    tenant: str | None
    channel: str
    provider: str
    target: str
    message: str
    payload: str | None
    status: str
    dedup_key: str | None = None
    last_error: str | None = None


@attrs.frozen(kw_only=True)
class DeliveryRow:
    id: str
    message_id: str
    created: float
    updated: float
    event: str
    severity: str
    tenant: str | None
    channel: str
    provider: str
    target: str
    message: str
    payload: str | None
    status: str
    attempts: int
    next_attempt: float | None
    lease_owner: str | None
    lease_until: float | None
    last_error: str | None
    last_status: int | None
    dedup_key: str | None
    meta: str | None

    @property
    def channel_key(self) -> str:
        return f"{self.tenant}/{self.channel}" if self.tenant else self.channel


@attrs.frozen(kw_only=True)
class AttemptRow:
    delivery_id: str
    number: int
    started: float
    duration: float
    http_status: int | None
    outcome: str
    error: str | None
    response: str | None


@attrs.frozen(kw_only=True)
class Silence:
    id: str
    created: float
    until: float
    event: str
    channel: str | None
    tenant: str | None
    reason: str | None

    def matches(self, event: str, channel: str, tenant: str | None) -> bool:
        return (
            fnmatch.fnmatchcase(event, self.event)
            and (self.channel is None or self.channel == channel)
            and (self.tenant is None or self.tenant == tenant)
        )


@attrs.frozen(kw_only=True)
class ChannelState:
    channel: str
    disabled: bool = False
    disabled_reason: str | None = None
    auto_disabled: bool = False
    consecutive_failures: int = 0
    last_success: float | None = None
    last_failure: float | None = None
    last_error: str | None = None

    @property
    def off(self) -> bool:
        return self.disabled or self.auto_disabled


_DELIVERY_COLUMNS = [a.name for a in attrs.fields(DeliveryRow)]
_SILENCE_COLUMNS = [a.name for a in attrs.fields(Silence)]
_SELECT = "SELECT " + ", ".join(_DELIVERY_COLUMNS) + " FROM deliveries"


class Store:
    """One SQLite file. Not thread-safe: use it from one thread (the event loop's)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                parent = Path(self.path).resolve().parent
                if not parent.is_dir():
                    raise StoreError(
                        f"cannot open database {self.path}: directory {parent} does not exist"
                    )
            self._cache: dict[str, Any] = {}
            self._data_version = -1
            self._db = sqlite3.connect(
                self.path, isolation_level=None, timeout=30.0, check_same_thread=False
            )
            self._db.execute("PRAGMA busy_timeout = 30000")
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from None

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction around many store calls (see :class:`BatchWriter`).

        Writes inside it nest as savepoints: one failing call rolls back only itself.
        """
        with self._write() as db:
            yield db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self._db.in_transaction:
            yield from self._savepoint()
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to database {self.path}: {exc}") from None
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise StoreError(f"cannot write to database {self.path}: {exc}") from None

    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("SAVEPOINT nested")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK TO nested")
            self._db.execute("RELEASE nested")
            raise
        self._db.execute("RELEASE nested")

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"database {self.path} has schema {version}, newer than this "
                f"notify ({SCHEMA_VERSION}); upgrade notify-core"
            )
        if version == SCHEMA_VERSION:
            return
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]  # another process?
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {target}")

    # -- deliveries ----------------------------------------------------------------

    def add(
        self,
        deliveries: Sequence[NewDelivery],
        *,
        owner: str | None = None,
        lease: float = 60.0,
        now: float | None = None,
    ) -> None:
        """Insert deliveries in one transaction; ``sending`` ones are leased to ``owner``."""
        now = time.time() if now is None else now
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
        with self._write() as db:
            db.executemany(
                "INSERT INTO deliveries (id, message_id, created, updated, event, severity,"
                " tenant, channel, provider, target, message, payload, status, next_attempt,"
                " lease_owner, lease_until, dedup_key, last_error)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )

    def claim(
        self, owner: str, *, limit: int, lease: float, now: float | None = None
    ) -> list[DeliveryRow]:
        """Atomically lease up to ``limit`` due deliveries (pending, or with a dead lease)."""
        now = time.time() if now is None else now
        with self._write() as db:
            cursor = db.execute(
                "UPDATE deliveries SET status = 'sending', lease_owner = ?, lease_until = ?,"
                " updated = ? WHERE id IN (SELECT id FROM deliveries WHERE"
                " (status = 'pending' AND next_attempt <= ?)"
                " OR (status = 'sending' AND lease_until < ?)"
                " ORDER BY next_attempt LIMIT ?) RETURNING " + ", ".join(_DELIVERY_COLUMNS),
                (owner, now + lease, now, now, now, limit),
            )
            rows = [
                DeliveryRow(**dict(zip(_DELIVERY_COLUMNS, r, strict=True)))
                for r in cursor.fetchall()
            ]
        rows.sort(key=lambda r: (r.next_attempt or 0, r.id))
        return rows

    def claim_ids(
        self, owner: str, ids: Sequence[str], *, lease: float, now: float | None = None
    ) -> list[DeliveryRow]:
        """Lease these deliveries now if they are pending (``notify retry`` sends at once)."""
        now = time.time() if now is None else now
        claimed: list[DeliveryRow] = []
        with self._write() as db:
            for delivery_id in ids:
                row = db.execute(
                    "UPDATE deliveries SET status = 'sending', lease_owner = ?, lease_until = ?,"
                    " updated = ? WHERE id = ? AND (status = 'pending'"
                    " OR (status = 'sending' AND lease_until < ?)) RETURNING "
                    + ", ".join(_DELIVERY_COLUMNS),
                    (owner, now + lease, now, delivery_id, now),
                ).fetchone()
                if row is not None:
                    claimed.append(DeliveryRow(**dict(zip(_DELIVERY_COLUMNS, row, strict=True))))
        return claimed

    def record_attempt(
        self,
        attempt: AttemptRow,
        *,
        status: str,
        owner: str | None,
        next_attempt: float | None = None,
        lease_until: float | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        """Log one attempt and move its delivery on, in one transaction.

        ``status`` is ``delivered``/``failed`` (final), ``pending`` (released for a
        later retry by whoever claims it) or ``sending`` (kept leased by ``owner``
        who will retry it in-process at ``next_attempt``).
        """
        now = time.time()
        lease_owner = owner if status == "sending" else None
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
                " updated = ?, meta = COALESCE(?, meta) WHERE id = ?",
                (
                    status,
                    attempt.number,
                    next_attempt,
                    lease_owner,
                    lease_until if status == "sending" else None,
                    attempt.error if status != "delivered" else None,
                    attempt.http_status,
                    now,
                    json.dumps(meta) if meta else None,
                    attempt.delivery_id,
                ),
            )

    def finish_without_attempt(self, delivery_id: str, *, status: str, reason: str) -> None:
        """End a delivery that will not be attempted (skipped, or its channel vanished)."""
        with self._write() as db:
            db.execute(
                "UPDATE deliveries SET status = ?, last_error = ?, lease_owner = NULL,"
                " lease_until = NULL, next_attempt = NULL, updated = ? WHERE id = ?",
                (status, reason, time.time(), delivery_id),
            )

    def release(self, ids: Iterable[str], owner: str) -> int:
        """Give back leased deliveries (graceful shutdown): due again at once."""
        ids = list(ids)
        if not ids:
            return 0
        now = time.time()
        with self._write() as db:
            cursor = db.executemany(
                "UPDATE deliveries SET status = 'pending', lease_owner = NULL,"
                " lease_until = NULL, next_attempt = MIN(COALESCE(next_attempt, ?), ?),"
                " updated = ? WHERE id = ? AND status = 'sending' AND lease_owner = ?",
                [(now, now, now, i, owner) for i in ids],
            )
            return cursor.rowcount

    def requeue(self, ids: Iterable[str]) -> list[str]:
        """Make failed deliveries pending again; they keep their id and their history."""
        ids = list(ids)
        done: list[str] = []
        now = time.time()
        with self._write() as db:
            for delivery_id in ids:
                cursor = db.execute(
                    "UPDATE deliveries SET status = 'pending', next_attempt = ?, updated = ?"
                    " WHERE id = ? AND status IN ('failed', 'skipped')",
                    (now, now, delivery_id),
                )
                if cursor.rowcount:
                    done.append(delivery_id)
        return done

    def get(self, delivery_id: str) -> DeliveryRow | None:
        row = self._db.execute(_SELECT + " WHERE id = ?", (delivery_id,)).fetchone()
        return DeliveryRow(**dict(zip(_DELIVERY_COLUMNS, row, strict=True))) if row else None

    def find(self, prefix: str) -> list[DeliveryRow]:
        """Deliveries whose id starts with ``prefix`` (ids are long; people type a few)."""
        rows = self._db.execute(
            _SELECT + " WHERE id >= ? AND id < ? ORDER BY id LIMIT 2", (prefix, prefix + "\uffff")
        ).fetchall()
        return [DeliveryRow(**dict(zip(_DELIVERY_COLUMNS, r, strict=True))) for r in rows]

    def query(
        self,
        *,
        channel: str | None = None,
        status: str | None = None,
        event: str | None = None,
        tenant: str | None = None,
        since: float | None = None,
        limit: int | None = 50,
        message_id: str | None = None,
    ) -> list[DeliveryRow]:
        """Deliveries newest first, filtered. ``event`` is a glob (``training.*``)."""
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
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [
            DeliveryRow(**dict(zip(_DELIVERY_COLUMNS, r, strict=True)))
            for r in self._db.execute(sql, args).fetchall()
        ]

    def attempts(self, delivery_id: str) -> list[AttemptRow]:
        cursor = self._db.execute(
            "SELECT delivery_id, number, started, duration, http_status, outcome, error,"
            " response FROM attempts WHERE delivery_id = ? ORDER BY number",
            (delivery_id,),
        )
        names = [a.name for a in attrs.fields(AttemptRow)]
        return [AttemptRow(**dict(zip(names, r, strict=True))) for r in cursor.fetchall()]

    def counts(self) -> dict[str, int]:
        return dict(
            self._db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall()
        )

    def next_due(self) -> float | None:
        row = self._db.execute(
            "SELECT MIN(next_attempt) FROM deliveries WHERE status = 'pending'"
        ).fetchone()
        lease = self._db.execute(
            "SELECT MIN(lease_until) FROM deliveries WHERE status = 'sending'"
        ).fetchone()
        times = [t for t in (row[0], lease[0]) if t is not None]
        return min(times) if times else None

    def prune(self, before: float) -> int:
        """Remove finished deliveries (and their attempts) created before ``before``."""
        with self._write() as db:
            cursor = db.execute(
                "DELETE FROM deliveries WHERE created < ?"
                " AND status IN ('delivered', 'failed', 'skipped')",
                (before,),
            )
            return cursor.rowcount

    def repeat_of(
        self, channel: str, tenant: str | None, dedup_key: str, since: float
    ) -> str | None:
        """The id of a recent delivery of the same notification (for cooldowns)."""
        row = self._db.execute(
            "SELECT id FROM deliveries WHERE channel = ? AND tenant IS ? AND dedup_key = ?"
            " AND created >= ? AND status IN ('pending', 'sending', 'delivered')"
            " ORDER BY created DESC LIMIT 1",
            (channel, tenant, dedup_key, since),
        ).fetchone()
        return row[0] if row else None

    # -- silences -------------------------------------------------------------------

    def add_silence(
        self,
        *,
        event: str,
        until: float,
        channel: str | None = None,
        tenant: str | None = None,
        reason: str | None = None,
    ) -> Silence:
        self._cache.clear()
        silence = Silence(
            id=new_id(),
            created=time.time(),
            until=until,
            event=event,
            channel=channel,
            tenant=tenant,
            reason=reason,
        )
        with self._write() as db:
            db.execute(
                "INSERT INTO silences (id, created, until, event, channel, tenant, reason)"
                " VALUES (?,?,?,?,?,?,?)",
                attrs.astuple(silence),
            )
        return silence

    def silences(self, *, active_at: float | None = None) -> list[Silence]:
        """Silences in force at ``active_at`` (all of them when None), newest first."""
        sql = "SELECT id, created, until, event, channel, tenant, reason FROM silences"
        args: tuple[float, ...] = ()
        if active_at is not None:
            sql += " WHERE until > ?"
            args = (active_at,)
        rows = self._db.execute(sql + " ORDER BY created DESC", args).fetchall()
        return [Silence(**dict(zip(_SILENCE_COLUMNS, r, strict=True))) for r in rows]

    def remove_silence(self, silence_id: str) -> bool:
        self._cache.clear()
        with self._write() as db:
            return db.execute("DELETE FROM silences WHERE id = ?", (silence_id,)).rowcount > 0

    # -- channel health ------------------------------------------------------------

    # -- cached reads for the hot path ----------------------------------------------
    #
    # Accepting a delivery asks "is this channel off?" and "which silences apply?". The
    # answers change rarely, so they are cached until this connection writes them or
    # another process commits anything (``PRAGMA data_version`` moves).

    def _cache_fresh(self) -> dict[str, Any]:
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._data_version = version
            self._cache.clear()
        return self._cache

    def off_reason(self, channel: str) -> str | None:
        """Why a channel is switched off (by hand or automatically), or None."""
        cache = self._cache_fresh()
        key = "off:" + channel
        if key not in cache:
            state = self.channel_state(channel)
            cache[key] = (state.disabled_reason or "disabled") if state.off else None
        reason: str | None = cache[key]
        return reason

    def active_silences(self, now: float) -> list[Silence]:
        cache = self._cache_fresh()
        if "silences" not in cache:
            cache["silences"] = self.silences(active_at=now)
        return [s for s in cache["silences"] if s.until > now]

    def channel_state(self, channel: str) -> ChannelState:
        row = self._db.execute(
            "SELECT channel, disabled, disabled_reason, auto_disabled, consecutive_failures,"
            " last_success, last_failure, last_error FROM channel_state WHERE channel = ?",
            (channel,),
        ).fetchone()
        if row is None:
            return ChannelState(channel=channel)
        return ChannelState(
            channel=row[0],
            disabled=bool(row[1]),
            disabled_reason=row[2],
            auto_disabled=bool(row[3]),
            consecutive_failures=row[4],
            last_success=row[5],
            last_failure=row[6],
            last_error=row[7],
        )

    def channel_states(self) -> dict[str, ChannelState]:
        keys = [r[0] for r in self._db.execute("SELECT channel FROM channel_state")]
        return {k: self.channel_state(k) for k in keys}

    def note_success(self, channel: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO channel_state (channel, last_success) VALUES (?, ?)"
                " ON CONFLICT(channel) DO UPDATE SET consecutive_failures = 0,"
                " last_success = excluded.last_success",
                (channel, time.time()),
            )

    def note_failure(self, channel: str, reason: str, *, disable_after: int) -> bool:
        """Count a failure; auto-disable at ``disable_after`` in a row. True if it just did."""
        self._cache.clear()
        now = time.time()
        with self._write() as db:
            db.execute(
                "INSERT INTO channel_state (channel, consecutive_failures, last_failure,"
                " last_error) VALUES (?, 1, ?, ?) ON CONFLICT(channel) DO UPDATE SET"
                " consecutive_failures = consecutive_failures + 1,"
                " last_failure = excluded.last_failure, last_error = excluded.last_error",
                (channel, now, reason),
            )
            count, auto = db.execute(
                "SELECT consecutive_failures, auto_disabled FROM channel_state WHERE channel = ?",
                (channel,),
            ).fetchone()
            if count >= disable_after and not auto:
                db.execute(
                    "UPDATE channel_state SET auto_disabled = 1, disabled_reason = ?"
                    " WHERE channel = ?",
                    (f"auto-disabled after {count} consecutive failures; last: {reason}", channel),
                )
                return True
        return False

    def set_enabled(self, channel: str, enabled: bool, reason: str | None = None) -> None:
        """The manual switch. Enabling also clears an auto-disable and the failure count."""
        self._cache.clear()
        with self._write() as db:
            if enabled:
                db.execute(
                    "INSERT INTO channel_state (channel) VALUES (?) ON CONFLICT(channel)"
                    " DO UPDATE SET disabled = 0, auto_disabled = 0, disabled_reason = NULL,"
                    " consecutive_failures = 0",
                    (channel,),
                )
            else:
                db.execute(
                    "INSERT INTO channel_state (channel, disabled, disabled_reason)"
                    " VALUES (?, 1, ?) ON CONFLICT(channel) DO UPDATE SET disabled = 1,"
                    " disabled_reason = excluded.disabled_reason",
                    (channel, reason or "disabled by hand"),
                )
