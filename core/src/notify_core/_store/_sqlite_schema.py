"""The SQLite schema, as forward migrations: ``PRAGMA user_version`` says which ran."""

from __future__ import annotations

SCHEMA_VERSION = 5

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
    # 3 is reserved for the PostgreSQL work developed in parallel (issue: PostgreSQL store);
    # the merge renumbers one of the two. An empty migration only moves user_version.
    3: "",
    # notify serve: answers to requests that carried an Idempotency-Key, kept a day.
    4: """
    CREATE TABLE idempotency (
        key          TEXT PRIMARY KEY,
        fingerprint  TEXT NOT NULL,
        created      REAL NOT NULL,
        status       INTEGER,
        answer       TEXT
    );
    CREATE INDEX idempotency_created ON idempotency (created);
    """,
    # Threads: the provider's metadata per (channel, thread key), and each delivery's
    # thread key, indexed for the hold ("is an earlier delivery of this thread open?").
    5: """
    ALTER TABLE deliveries ADD COLUMN thread_key TEXT;
    CREATE INDEX deliveries_thread ON deliveries (channel, thread_key, created)
        WHERE thread_key IS NOT NULL;
    CREATE TABLE threads (
        channel   TEXT NOT NULL,
        key       TEXT NOT NULL,
        created   REAL NOT NULL,
        updated   REAL NOT NULL,
        starter   TEXT,
        data      TEXT,
        PRIMARY KEY (channel, key)
    );
    CREATE INDEX threads_updated ON threads (updated);
    """,
}
