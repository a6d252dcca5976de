"""SQL for stored channels and their audit: ``stored_channels`` and ``channel_audit``.

Every change to a stored channel writes its audit row and bumps the one-row counter
``stored_channels_revision`` in the same transaction: routers in other processes read
the counter (:meth:`stored_revision`) and re-read the channels only when it moved. A
counter row rather than the audit's highest id: on a server database, ids are handed out
in insert order, not commit order, and a late commit of a lower id would go unseen. (The
counter's row lock also makes changes to stored channels take turns on PostgreSQL.)

One text for both backends (see :mod:`._sql_base`). A name taken in its tenant is found
by the insert itself (``ON CONFLICT DO NOTHING`` on the unique index over
``(COALESCE(tenant, ''), name)``), not by catching an error: on PostgreSQL an error
would abort the transaction the caller may still be using.
"""

from __future__ import annotations

from typing import Any

import attrs

from .._errors import StoreError
from ._records import ChannelAudit, StoredChannel, columns, mapper
from ._sql_base import SqlBase

_COLUMNS = ", ".join(columns(StoredChannel))
_AUDIT_COLUMNS = ", ".join(c for c in columns(ChannelAudit) if c != "id")
_stored = mapper(StoredChannel)
_audit = mapper(ChannelAudit)
_SCOPE = "COALESCE(tenant, '') = COALESCE(?, '') AND name = ?"


class StoredChannelsSQL(SqlBase):
    def stored_channels(self) -> list[StoredChannel]:
        with self._statement() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM stored_channels ORDER BY COALESCE(tenant, ''), name"
            ).fetchall()
        return [_stored(r) for r in rows]

    def stored_channel(self, name: str, tenant: str | None) -> StoredChannel | None:
        with self._statement() as db:
            row = db.execute(
                self._sql(f"SELECT {_COLUMNS} FROM stored_channels WHERE {_SCOPE}"), (tenant, name)
            ).fetchone()
        return _stored(row) if row else None

    def stored_revision(self) -> int:
        with self._statement() as db:
            row = db.execute("SELECT revision FROM stored_channels_revision").fetchone()
        return int(row[0]) if row else 0

    def put_stored_channel(
        self, channel: StoredChannel, *, create: bool, audit: ChannelAudit
    ) -> bool:
        self._own_writes += 1
        with self._write() as db:
            if create:
                cursor = db.execute(
                    self._sql(
                        f"INSERT INTO stored_channels ({_COLUMNS}) VALUES"
                        f" ({','.join('?' * len(attrs.fields(StoredChannel)))})"
                        " ON CONFLICT DO NOTHING"
                    ),
                    attrs.astuple(channel),
                )
            else:
                cursor = db.execute(
                    self._sql(
                        "UPDATE stored_channels SET provider = ?, spec = ?, secrets = ?,"
                        " target = ?, description = ?, updated = ?, updated_by = ?"
                        f" WHERE {_SCOPE}"
                    ),
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
            if cursor.rowcount == 0:  # the name is taken (create), or there is none (update)
                return False
            self._insert_audit(db, audit)
            self._bump(db)
        return True

    def remove_stored_channel(self, name: str, tenant: str | None, *, audit: ChannelAudit) -> bool:
        self._own_writes += 1
        with self._write() as db:
            cursor = db.execute(
                self._sql(f"DELETE FROM stored_channels WHERE {_SCOPE}"), (tenant, name)
            )
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
        with self._statement() as db:
            rows = db.execute(self._sql(sql + " ORDER BY id DESC LIMIT ?"), (*args, limit))
            return [_audit(r) for r in rows.fetchall()]

    @staticmethod
    def _bump(db: Any) -> None:
        db.execute("UPDATE stored_channels_revision SET revision = revision + 1 WHERE id = 1")

    def _insert_audit(self, db: Any, entry: ChannelAudit) -> None:
        values = attrs.astuple(entry)[:-1]  # all but the id, which the table assigns
        try:
            db.execute(
                self._sql(f"INSERT INTO channel_audit ({_AUDIT_COLUMNS}) VALUES (?,?,?,?,?,?)"),
                values,
            )
        except self._integrity_errors as exc:
            detail = " ".join(str(exc).split())
            raise StoreError(f"cannot record the audit entry: {detail}") from None
