"""The PostgreSQL schema, as forward migrations numbered as SQLite's (:mod:`._sqlite_schema`);
from 4 on, one text with SQLite's (:mod:`._schema`).

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

from ._schema import POSTGRES_WORDS, migrations

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
    **migrations(POSTGRES_WORDS),
}
SCHEMA_VERSION = max(MIGRATIONS)
