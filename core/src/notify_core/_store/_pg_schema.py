"""The PostgreSQL schema, as forward migrations numbered as SQLite's (:mod:`._sqlite_schema`).

The same tables, columns and meanings; PostgreSQL's types (``DOUBLE PRECISION`` for
SQLite's ``REAL``, ``BIGSERIAL`` for ``AUTOINCREMENT``). Ids, and the names listings sort
by, are ``COLLATE "C"``: byte order, as SQLite compares, whatever the database's locale,
so an id prefix is a key range. Tables whose rows SQLite orders by ``rowid`` (arrival
order) have an ``arrival`` ``BIGSERIAL`` column instead. ``schema_version`` says which
migrations ran; they run under an advisory lock, so workers starting together migrate
once. (Adding ``arrival`` to an existing ``deliveries`` rewrites the table once, under
that migration's lock.)
"""

from __future__ import annotations

#: ``pg_advisory_xact_lock`` key of the migrations ("notify" in ASCII).
MIGRATION_LOCK = 0x6E6F74696679

MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE deliveries (
        id            TEXT COLLATE "C" PRIMARY KEY,
        message_id    TEXT NOT NULL,
        created       DOUBLE PRECISION NOT NULL,
        updated       DOUBLE PRECISION NOT NULL,
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
        next_attempt  DOUBLE PRECISION,
        lease_owner   TEXT,
        lease_until   DOUBLE PRECISION,
        last_error    TEXT,
        last_status   INTEGER,
        dedup_key     TEXT,
        meta          TEXT
    );
    CREATE INDEX deliveries_due ON deliveries (status, next_attempt);
    CREATE INDEX deliveries_lease ON deliveries (status, lease_until);
    CREATE INDEX deliveries_created ON deliveries (created);
    CREATE INDEX deliveries_channel ON deliveries (tenant, channel, created);
    CREATE TABLE attempts (
        delivery_id   TEXT COLLATE "C" NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
        number        INTEGER NOT NULL,
        started       DOUBLE PRECISION NOT NULL,
        duration      DOUBLE PRECISION NOT NULL,
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
        last_success          DOUBLE PRECISION,
        last_failure          DOUBLE PRECISION,
        last_error            TEXT
    )
    """,
    2: """
    CREATE TABLE silences (
        id        TEXT PRIMARY KEY,
        created   DOUBLE PRECISION NOT NULL,
        until     DOUBLE PRECISION NOT NULL,
        event     TEXT NOT NULL DEFAULT '*',
        channel   TEXT,
        tenant    TEXT,
        reason    TEXT
    );
    CREATE INDEX silences_until ON silences (until);
    CREATE INDEX deliveries_dedup ON deliveries (channel, dedup_key, created)
    """,
    # 3: see _sqlite_schema; ``tat`` is in microseconds of the database server's clock.
    3: """
    ALTER TABLE deliveries ADD COLUMN throttled INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE deliveries ADD COLUMN budget_from INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE deliveries ADD COLUMN requeued DOUBLE PRECISION;
    CREATE TABLE rate_limits (
        key   TEXT PRIMARY KEY,
        tat   BIGINT NOT NULL
    )
    """,
    # 4-7: see _sqlite_schema (idempotency keys, threads, groups, stored channels)
    4: """
    CREATE TABLE idempotency (
        key          TEXT PRIMARY KEY,
        fingerprint  TEXT NOT NULL,
        created      DOUBLE PRECISION NOT NULL,
        status       INTEGER,
        answer       TEXT
    );
    CREATE INDEX idempotency_created ON idempotency (created)
    """,
    5: """
    ALTER TABLE deliveries ADD COLUMN thread_key TEXT;
    ALTER TABLE deliveries ADD COLUMN arrival BIGSERIAL;
    CREATE INDEX deliveries_thread ON deliveries (channel, thread_key, created)
        WHERE thread_key IS NOT NULL;
    CREATE TABLE threads (
        channel   TEXT NOT NULL,
        key       TEXT NOT NULL,
        created   DOUBLE PRECISION NOT NULL,
        updated   DOUBLE PRECISION NOT NULL,
        starter   TEXT COLLATE "C",
        data      TEXT,
        PRIMARY KEY (channel, key)
    );
    CREATE INDEX threads_updated ON threads (updated)
    """,
    6: """
    CREATE TABLE delivery_groups (
        id             TEXT COLLATE "C" PRIMARY KEY,
        kind           TEXT NOT NULL CHECK (kind IN ('group','digest')),
        channel        TEXT NOT NULL,
        tenant         TEXT,
        provider       TEXT NOT NULL,
        key            TEXT NOT NULL,
        labels         TEXT NOT NULL DEFAULT '{}',
        created        DOUBLE PRECISION NOT NULL,
        updated        DOUBLE PRECISION NOT NULL,
        due            DOUBLE PRECISION,
        last_sent      DOUBLE PRECISION,
        last_delivery  TEXT COLLATE "C",
        lease_owner    TEXT,
        lease_until    DOUBLE PRECISION
    );
    CREATE INDEX delivery_groups_due ON delivery_groups (due);
    CREATE TABLE group_items (
        group_id     TEXT COLLATE "C" NOT NULL
                     REFERENCES delivery_groups(id) ON DELETE CASCADE,
        dedup_key    TEXT NOT NULL,
        delivery_id  TEXT COLLATE "C" NOT NULL,
        message_id   TEXT NOT NULL,
        created      DOUBLE PRECISION NOT NULL,
        updated      DOUBLE PRECISION NOT NULL,
        severity     TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('firing','resolved')),
        message      TEXT NOT NULL,
        seen         INTEGER NOT NULL DEFAULT 1,
        changed      INTEGER NOT NULL DEFAULT 1,
        sent_in      TEXT COLLATE "C",
        arrival      BIGSERIAL,
        PRIMARY KEY (group_id, dedup_key)
    );
    CREATE TABLE group_carried (
        delivery_id    TEXT COLLATE "C" NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
        position       INTEGER NOT NULL,
        item_delivery  TEXT COLLATE "C" NOT NULL,
        dedup_key      TEXT NOT NULL,
        state          TEXT NOT NULL,
        title          TEXT NOT NULL DEFAULT '',
        new            INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (delivery_id, position)
    );
    CREATE INDEX group_carried_item ON group_carried (item_delivery)
    """,
    7: """
    CREATE TABLE stored_channels (
        id            TEXT COLLATE "C" PRIMARY KEY,
        tenant        TEXT COLLATE "C",
        name          TEXT COLLATE "C" NOT NULL,
        provider      TEXT NOT NULL,
        spec          TEXT NOT NULL,
        secrets       TEXT NOT NULL,
        target        TEXT NOT NULL DEFAULT '',
        description   TEXT,
        created       DOUBLE PRECISION NOT NULL,
        updated       DOUBLE PRECISION NOT NULL,
        created_by    TEXT,
        updated_by    TEXT
    );
    CREATE UNIQUE INDEX stored_channels_scope ON stored_channels ((COALESCE(tenant, '')), name);
    CREATE TABLE channel_audit (
        id        BIGSERIAL PRIMARY KEY,
        at        DOUBLE PRECISION NOT NULL,
        tenant    TEXT,
        channel   TEXT NOT NULL,
        action    TEXT NOT NULL
                  CHECK (action IN ('created','edited','tested','removed','rekeyed')),
        actor     TEXT,
        detail    TEXT
    );
    CREATE INDEX channel_audit_channel ON channel_audit (channel, tenant, id);
    CREATE TABLE stored_channels_revision (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        revision  BIGINT NOT NULL
    );
    INSERT INTO stored_channels_revision (id, revision) VALUES (1, 0)
    """,
}
SCHEMA_VERSION = max(MIGRATIONS)
