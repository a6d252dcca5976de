"""SQL for grouping and digests: groups, their items, and what each summary carried.

No policy here: when a group is due, what is news and what a summary says are decided
by :mod:`notify_core._grouping`. A group is claimed like a delivery (one ``UPDATE …
RETURNING`` inside ``BEGIN IMMEDIATE``, with a lease), and settled in one transaction
that writes the summary delivery, marks the items and moves the group on, only while
the claim is still held: a crash between claim and settlement loses nothing (the lease
expires and another worker flushes it) and sends nothing twice (the settlement is all
or nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from ._group_records import (
    CarriedItem,
    GroupItem,
    GroupRow,
    GroupSettlement,
    NewGroup,
    NewGroupItem,
)
from ._records import NewDelivery, columns, mapper
from ._sqlite_base import SqliteBase

_GROUP_COLUMNS = ", ".join(columns(GroupRow))
_ITEM_COLUMNS = ", ".join(columns(GroupItem))
_CARRIED_COLUMNS = ", ".join(columns(CarriedItem))
_group = mapper(GroupRow)
_item = mapper(GroupItem)
_carried = mapper(CarriedItem)


class GroupsSQL(SqliteBase):
    if TYPE_CHECKING:  # from OutboxSQL, beside this mixin in SqliteStore

        def add(
            self,
            deliveries: Sequence[NewDelivery],
            *,
            owner: str | None = None,
            lease: float = 60.0,
        ) -> None: ...

    # -- taking messages in ----------------------------------------------------------

    def upsert_group(self, group: NewGroup) -> GroupRow:
        now = self.clock.time()
        with self._write() as db:
            row = db.execute(
                "INSERT INTO delivery_groups (id, kind, channel, tenant, provider, key, labels,"
                " created, updated) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
                f" updated = excluded.updated RETURNING {_GROUP_COLUMNS}",
                (
                    group.id,
                    group.kind,
                    group.channel,
                    group.tenant,
                    group.provider,
                    group.key,
                    group.labels,
                    now,
                    now,
                ),
            ).fetchone()
        result: GroupRow = _group(row)
        return result

    def group_item(self, group_id: str, dedup_key: str) -> GroupItem | None:
        row = self._db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM group_items WHERE group_id = ? AND dedup_key = ?",
            (group_id, dedup_key),
        ).fetchone()
        return _item(row) if row else None

    def put_group_item(self, item: NewGroupItem, *, changed: bool) -> None:
        now = self.clock.time()
        with self._write() as db:
            db.execute(
                "INSERT INTO group_items (group_id, dedup_key, delivery_id, message_id, created,"
                " updated, severity, state, message, seen, changed)"
                " VALUES (?,?,?,?,?,?,?,?,?,1,?) ON CONFLICT(group_id, dedup_key) DO UPDATE SET"
                " delivery_id = excluded.delivery_id, message_id = excluded.message_id,"
                " updated = excluded.updated, severity = excluded.severity,"
                " state = excluded.state, message = excluded.message, seen = seen + 1,"
                " changed = excluded.changed",
                (
                    item.group_id,
                    item.dedup_key,
                    item.delivery_id,
                    item.message_id,
                    now,
                    now,
                    item.severity,
                    item.state,
                    item.message,
                    int(changed),
                ),
            )

    def set_group_due(self, group_id: str, due: float | None) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE delivery_groups SET due = ?, updated = ? WHERE id = ?",
                (due, self.clock.time(), group_id),
            )

    # -- flushing --------------------------------------------------------------------

    def next_group_due(self) -> float | None:
        (due,) = self._db.execute(
            "SELECT MIN(MAX(due, COALESCE(lease_until, due))) FROM delivery_groups"
            " WHERE due IS NOT NULL"
        ).fetchone()
        return float(due) if due is not None else None

    def claim_groups(self, owner: str, *, limit: int, lease: float) -> list[GroupRow]:
        now = self.clock.time()
        with self._write() as db:
            rows = db.execute(
                "UPDATE delivery_groups SET lease_owner = ?, lease_until = ?, updated = ?"
                " WHERE id IN (SELECT id FROM delivery_groups WHERE due <= ?"
                " AND (lease_until IS NULL OR lease_until < ?) ORDER BY due LIMIT ?)"
                f" RETURNING {_GROUP_COLUMNS}",
                (owner, now + lease, now, now, now, limit),
            ).fetchall()
        return sorted(map(_group, rows), key=lambda g: (g.due or 0.0, g.id))

    def group_items(self, group_id: str) -> list[GroupItem]:
        rows = self._db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM group_items WHERE group_id = ? ORDER BY created, rowid",
            (group_id,),
        ).fetchall()
        return [_item(r) for r in rows]

    def settle_group(self, settlement: GroupSettlement) -> bool:
        s = settlement
        now = self.clock.time()
        with self._write() as db:
            held = db.execute(
                "UPDATE delivery_groups SET updated = ? WHERE id = ? AND lease_owner = ?",
                (now, s.group_id, s.owner),
            ).rowcount
            if not held:
                return False  # the claim expired and another worker took the group
            summary_id = s.summary.id if s.summary is not None else None
            if s.summary is not None:
                self.add([s.summary])
                db.executemany(
                    f"INSERT INTO group_carried ({_CARRIED_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
                    [attrs.astuple(c) for c in s.carried],
                )
            db.executemany(
                "UPDATE group_items SET changed = 0, sent_in = ?"
                " WHERE group_id = ? AND dedup_key = ? AND delivery_id = ?",
                [(summary_id, s.group_id, key, delivery) for key, delivery in s.sent],
            )
            db.executemany(
                "DELETE FROM group_items WHERE group_id = ? AND dedup_key = ? AND delivery_id = ?",
                [(s.group_id, key, delivery) for key, delivery in s.removed],
            )
            db.executemany(
                "UPDATE deliveries SET last_error = ?, updated = ? WHERE id = ?",
                [(reason, now, delivery) for delivery, reason in s.reasons],
            )
            gone = db.execute(
                "DELETE FROM delivery_groups WHERE id = ? AND NOT EXISTS"
                " (SELECT 1 FROM group_items WHERE group_id = ?)",
                (s.group_id, s.group_id),
            ).rowcount
            if not gone:
                db.execute(
                    "UPDATE delivery_groups SET due = CASE WHEN EXISTS (SELECT 1 FROM"
                    " group_items WHERE group_id = ? AND changed = 1) THEN ? ELSE ? END,"
                    " last_sent = COALESCE(?, last_sent),"
                    " last_delivery = COALESCE(?, last_delivery),"
                    " lease_owner = NULL, lease_until = NULL, updated = ? WHERE id = ?",
                    (
                        s.group_id,
                        s.due_changed,
                        s.due_quiet,
                        s.sent_at,
                        summary_id,
                        now,
                        s.group_id,
                    ),
                )
        return True

    # -- looking -----------------------------------------------------------------------

    def groups(self, *, channel: str | None = None, tenant: str | None = None) -> list[GroupRow]:
        where, args = [], []
        for column, value in (("channel", channel), ("tenant", tenant)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = f"SELECT {_GROUP_COLUMNS} FROM delivery_groups"
        sql += (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY due IS NULL, due, id"
        return [_group(r) for r in self._db.execute(sql, args).fetchall()]

    def carried(self, delivery_id: str) -> list[CarriedItem]:
        rows = self._db.execute(
            f"SELECT {_CARRIED_COLUMNS} FROM group_carried WHERE delivery_id = ? ORDER BY position",
            (delivery_id,),
        ).fetchall()
        return [_carried(r) for r in rows]

    def carried_counts(self, delivery_ids: Sequence[str]) -> dict[str, int]:
        ids = list(delivery_ids)
        counts: dict[str, int] = {}
        for start in range(0, len(ids), 500):  # under SQLite's limit on bound variables
            chunk = ids[start : start + 500]
            rows = self._db.execute(
                "SELECT delivery_id, COUNT(*) FROM group_carried WHERE delivery_id IN"
                f" ({', '.join('?' * len(chunk))}) GROUP BY delivery_id",
                chunk,
            ).fetchall()
            counts.update((delivery, int(count)) for delivery, count in rows)
        return counts

    def carriers(self, item_delivery: str) -> list[str]:
        rows = self._db.execute(
            "SELECT delivery_id FROM group_carried WHERE item_delivery = ? ORDER BY delivery_id",
            (item_delivery,),
        ).fetchall()
        return [r[0] for r in rows]
