"""The SQLite schema, as forward migrations: ``PRAGMA user_version`` says which ran."""

from __future__ import annotations

SCHEMA_VERSION = 6

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
    # grouping and digests (see _sqlite_groups.py): a group per channel × tenant × `by`
    # values, its items (one per dedup key), and what each summary delivery carried
    6: """
    CREATE TABLE delivery_groups (
        id             TEXT PRIMARY KEY,
        kind           TEXT NOT NULL CHECK (kind IN ('group','digest')),
        channel        TEXT NOT NULL,
        tenant         TEXT,
        provider       TEXT NOT NULL,
        key            TEXT NOT NULL,
        labels         TEXT NOT NULL DEFAULT '{}',
        created        REAL NOT NULL,
        updated        REAL NOT NULL,
        due            REAL,
        last_sent      REAL,
        last_delivery  TEXT,
        lease_owner    TEXT,
        lease_until    REAL
    );
    CREATE INDEX delivery_groups_due ON delivery_groups (due);
    CREATE TABLE group_items (
        group_id     TEXT NOT NULL REFERENCES delivery_groups(id) ON DELETE CASCADE,
        dedup_key    TEXT NOT NULL,
        delivery_id  TEXT NOT NULL,
        message_id   TEXT NOT NULL,
        created      REAL NOT NULL,
        updated      REAL NOT NULL,
        severity     TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('firing','resolved')),
        message      TEXT NOT NULL,
        seen         INTEGER NOT NULL DEFAULT 1,
        changed      INTEGER NOT NULL DEFAULT 1,
        sent_in      TEXT,
        PRIMARY KEY (group_id, dedup_key)
    );
    CREATE TABLE group_carried (
        delivery_id    TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
        position       INTEGER NOT NULL,
        item_delivery  TEXT NOT NULL,
        dedup_key      TEXT NOT NULL,
        state          TEXT NOT NULL,
        title          TEXT NOT NULL DEFAULT '',
        new            INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (delivery_id, position)
    );
    CREATE INDEX group_carried_item ON group_carried (item_delivery);
    """,
}
