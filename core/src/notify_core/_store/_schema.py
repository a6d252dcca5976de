"""The schema's later migrations, written once for both backends.

Migrations 1-3 predate the PostgreSQL store and are spelt out per backend
(:mod:`._sqlite_schema`, :mod:`._pg_schema`); from 4 on each migration is one template,
filled with the backend's :class:`Words`, so the two schemas cannot drift apart (a test
compares their tables and columns). The numbering is shared: version N is the same
tables on either backend.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Words:
    """The column types and clauses the two backends spell differently."""

    #: seconds since the epoch (SQLite's ``REAL``)
    real: str
    #: an id, or a name that listings sort by: compared byte by byte, whatever the locale
    key: str
    #: an integer id the table hands out, growing
    serial: str
    #: PostgreSQL's stand-in for SQLite's ``rowid`` (arrival order), as a column of a new
    #: table and as a statement adding it to ``deliveries``
    arrival_column: str
    add_arrival: str


SQLITE_WORDS = Words(
    real="REAL",
    key="TEXT",
    serial="INTEGER PRIMARY KEY AUTOINCREMENT",
    arrival_column="",
    add_arrival="",
)
POSTGRES_WORDS = Words(
    real="DOUBLE PRECISION",
    key='TEXT COLLATE "C"',
    serial="BIGSERIAL PRIMARY KEY",
    arrival_column="arrival      BIGSERIAL,",
    add_arrival="ALTER TABLE deliveries ADD COLUMN arrival BIGSERIAL;",
)

_TEMPLATES: dict[int, str] = {
    # notify serve: answers to requests that carried an Idempotency-Key, kept a day.
    4: """
    CREATE TABLE idempotency (
        key          TEXT PRIMARY KEY,
        fingerprint  TEXT NOT NULL,
        created      {w.real} NOT NULL,
        status       INTEGER,
        answer       TEXT
    );
    CREATE INDEX idempotency_created ON idempotency (created);
    """,
    # Threads: the provider's metadata per (channel, thread key), and each delivery's
    # thread key, indexed for the hold ("is an earlier delivery of this thread open?").
    5: """
    ALTER TABLE deliveries ADD COLUMN thread_key TEXT;
    {w.add_arrival}
    CREATE INDEX deliveries_thread ON deliveries (channel, thread_key, created)
        WHERE thread_key IS NOT NULL;
    CREATE TABLE threads (
        channel   TEXT NOT NULL,
        key       TEXT NOT NULL,
        created   {w.real} NOT NULL,
        updated   {w.real} NOT NULL,
        starter   {w.key},
        data      TEXT,
        PRIMARY KEY (channel, key)
    );
    CREATE INDEX threads_updated ON threads (updated);
    """,
    # grouping and digests (see _groups.py): a group per channel × tenant × `by`
    # values, its items (one per dedup key), and what each summary delivery carried
    6: """
    CREATE TABLE delivery_groups (
        id             {w.key} PRIMARY KEY,
        kind           TEXT NOT NULL CHECK (kind IN ('group','digest')),
        channel        TEXT NOT NULL,
        tenant         TEXT,
        provider       TEXT NOT NULL,
        key            TEXT NOT NULL,
        labels         TEXT NOT NULL DEFAULT '{{}}',
        created        {w.real} NOT NULL,
        updated        {w.real} NOT NULL,
        due            {w.real},
        last_sent      {w.real},
        last_delivery  {w.key},
        lease_owner    TEXT,
        lease_until    {w.real}
    );
    CREATE INDEX delivery_groups_due ON delivery_groups (due);
    CREATE TABLE group_items (
        group_id     {w.key} NOT NULL REFERENCES delivery_groups(id) ON DELETE CASCADE,
        dedup_key    TEXT NOT NULL,
        delivery_id  {w.key} NOT NULL,
        message_id   TEXT NOT NULL,
        created      {w.real} NOT NULL,
        updated      {w.real} NOT NULL,
        severity     TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('firing','resolved')),
        message      TEXT NOT NULL,
        seen         INTEGER NOT NULL DEFAULT 1,
        changed      INTEGER NOT NULL DEFAULT 1,
        sent_in      {w.key},
        {w.arrival_column}
        PRIMARY KEY (group_id, dedup_key)
    );
    CREATE TABLE group_carried (
        delivery_id    {w.key} NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
        position       INTEGER NOT NULL,
        item_delivery  {w.key} NOT NULL,
        dedup_key      TEXT NOT NULL,
        state          TEXT NOT NULL,
        title          TEXT NOT NULL DEFAULT '',
        new            INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (delivery_id, position)
    );
    CREATE INDEX group_carried_item ON group_carried (item_delivery);
    """,
    # stored channels (added by users and tenants, secrets encrypted) and their audit.
    # The unique index is on COALESCE(tenant, ''): root channels have tenant NULL, and
    # NULLs never collide in a plain UNIQUE constraint.
    7: """
    CREATE TABLE stored_channels (
        id            {w.key} PRIMARY KEY,
        tenant        {w.key},
        name          {w.key} NOT NULL,
        provider      TEXT NOT NULL,
        spec          TEXT NOT NULL,
        secrets       TEXT NOT NULL,
        target        TEXT NOT NULL DEFAULT '',
        description   TEXT,
        created       {w.real} NOT NULL,
        updated       {w.real} NOT NULL,
        created_by    TEXT,
        updated_by    TEXT
    );
    CREATE UNIQUE INDEX stored_channels_scope ON stored_channels ((COALESCE(tenant, '')), name);
    CREATE TABLE channel_audit (
        id        {w.serial},
        at        {w.real} NOT NULL,
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
    INSERT INTO stored_channels_revision (id, revision) VALUES (1, 0);
    """,
}


def migrations(words: Words) -> dict[int, str]:
    """Migrations 4 onwards in one backend's words."""
    return {version: text.format(w=words) for version, text in _TEMPLATES.items()}
