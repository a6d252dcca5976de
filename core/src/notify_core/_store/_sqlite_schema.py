"""The SQLite schema, as forward migrations: ``PRAGMA user_version`` says which ran.

Migrations from 4 on are shared with PostgreSQL (:mod:`._schema`).
"""

from __future__ import annotations

from ._schema import SQLITE_WORDS, migrations

MIGRATIONS: dict[int, str] = {
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
    # 3: what the dispatcher needs across processes (429s cost no retry budget; a manual
    # retry's fresh budget and deadline), and GCRA rate-limit state shared by every
    # process using the file: one theoretical arrival time per destination, in integer
    # microseconds of the wall clock, keyed by a hash of the destination (it may hold a
    # token).
    3: """
    ALTER TABLE deliveries ADD COLUMN throttled INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE deliveries ADD COLUMN budget_from INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE deliveries ADD COLUMN requeued REAL;
    CREATE TABLE rate_limits (
        key   TEXT PRIMARY KEY,
        tat   INTEGER NOT NULL
    ) WITHOUT ROWID;
    """,
    **migrations(SQLITE_WORDS),
}
SCHEMA_VERSION = max(MIGRATIONS)
