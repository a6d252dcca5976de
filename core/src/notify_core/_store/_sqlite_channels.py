"""SQL for stored channels and their audit: ``stored_channels`` and ``channel_audit``.

Every change to a stored channel writes its audit row and bumps the one-row counter
``stored_channels_revision`` in the same transaction: routers in other processes read
the counter (:meth:`stored_revision`) and re-read the channels only when it moved. A
counter row rather than the audit's highest id: on a server database, ids are handed out
in insert order, not commit order, and a late commit of a lower id would go unseen.
"""

from __future__ import annotations

import sqlite3

import attrs

from .._errors import StoreError
from ._records import ChannelAudit, StoredChannel, columns, mapper
from ._sqlite_base import SqliteBase

_COLUMNS = ", ".join(columns(StoredChannel))
_AUDIT_COLUMNS = ", ".join(c for c in columns(ChannelAudit) if c != "id")
_stored = mapper(StoredChannel)
_audit = mapper(ChannelAudit)
_SCOPE = "COALESCE(tenant, '') = COALESCE(?, '') AND name = ?"


class ChannelsSQL(SqliteBase):
    def stored_channels(self) -> list[StoredChannel]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM stored_channels ORDER BY COALESCE(tenant, ''), name"
        ).fetchall()
        return [_stored(r) for r in rows]

    def stored_channel(self, name: str, tenant: str | None) -> StoredChannel | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM stored_channels WHERE {_SCOPE}", (tenant, name)
        ).fetchone()
        return _stored(row) if row else None

    def stored_revision(self) -> int:
        row = self._db.execute("SELECT revision FROM stored_channels_revision").fetchone()
        return int(row[0]) if row else 0

    def put_stored_channel(
        self, channel: StoredChannel, *, create: bool, audit: ChannelAudit
    ) -> bool:
        self._own_writes += 1
        with self._write() as db:
            if create:
                try:
                    db.execute(
                        f"INSERT INTO stored_channels ({_COLUMNS}) VALUES"
                        f" ({','.join('?' * len(attrs.fields(StoredChannel)))})",
                        attrs.astuple(channel),
                    )
                except sqlite3.IntegrityError:
                    return False
            else:
                cursor = db.execute(
                    "UPDATE stored_channels SET provider = ?, spec = ?, secrets = ?, target = ?,"
                    f" description = ?, updated = ?, updated_by = ? WHERE {_SCOPE}",
                    (
                        channel.provider,
                        channel.spec,
                        channel.secrets,
                        channel.target,
                        channel.description,
                        channel.updated,
                        channel.updated_by,
                        channel.tenant,
                        channel.name,
                    ),
                )
                if cursor.rowcount == 0:
                    return False
            self._insert_audit(db, audit)
            self._bump(db)
        return True

    def remove_stored_channel(self, name: str, tenant: str | None, *, audit: ChannelAudit) -> bool:
        self._own_writes += 1
        with self._write() as db:
            cursor = db.execute(f"DELETE FROM stored_channels WHERE {_SCOPE}", (tenant, name))
            if cursor.rowcount == 0:
                return False
            self._insert_audit(db, audit)
            self._bump(db)
        return True

    def add_channel_audit(self, entry: ChannelAudit) -> None:
        self._own_writes += 1
        with self._write() as db:
            self._insert_audit(db, entry)

    def channel_audit(
        self, *, channel: str | None = None, tenant: str | None = None, limit: int = 100
    ) -> list[ChannelAudit]:
        sql = f"SELECT {_AUDIT_COLUMNS}, id FROM channel_audit"
        where: list[str] = []
        args: list[object] = []
        if channel is not None:
            where.append("channel = ?")
            args.append(channel)
        if tenant is not None:
            where.append("tenant = ?")
            args.append(tenant)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        return [_audit(r) for r in rows]

    @staticmethod
    def _bump(db: sqlite3.Connection) -> None:
        db.execute("UPDATE stored_channels_revision SET revision = revision + 1 WHERE id = 1")

    @staticmethod
    def _insert_audit(db: sqlite3.Connection, entry: ChannelAudit) -> None:
        values = attrs.astuple(entry)[:-1]  # all but the id, which the table assigns
        try:
            db.execute(f"INSERT INTO channel_audit ({_AUDIT_COLUMNS}) VALUES (?,?,?,?,?,?)", values)
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"cannot record the audit entry: {exc}") from None
