"""SQL for grouping and digests: groups, their items, and what each summary carried.

No policy here: when a group is due, what is news and what a summary says are decided
by :mod:`notify_core._grouping`. A group is claimed like a delivery (one ``UPDATE …
RETURNING``, with a lease; on PostgreSQL its rows picked ``FOR UPDATE SKIP LOCKED``), and
settled in one transaction that writes the summary delivery, marks the items and moves
the group on, only while the claim is still held: a crash between claim and settlement
loses nothing (the lease expires and another worker flushes it) and sends nothing twice
(the settlement is all or nothing). On PostgreSQL, adding an item starts by upserting the
group, which locks its row until the addition commits: a settlement (which updates that
row first) waits for it and then sees the item, so an item that arrived during a flush is
never marked sent unseen.

One text for both backends (see :mod:`._sql_base`).
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
from ._sql_base import SqlBase

_GROUP_COLUMNS = ", ".join(columns(GroupRow))
_ITEM_COLUMNS = ", ".join(columns(GroupItem))
_CARRIED_COLUMNS = ", ".join(columns(CarriedItem))
_group = mapper(GroupRow)
_item = mapper(GroupItem)
_carried = mapper(CarriedItem)


class GroupsSQL(SqlBase):
    if TYPE_CHECKING:  # from DeliveriesSQL, beside this mixin in each store

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
                self._sql(
                    "INSERT INTO delivery_groups (id, kind, channel, tenant, provider, key,"
                    " labels, created, updated) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (id)"
                    f" DO UPDATE SET updated = excluded.updated RETURNING {_GROUP_COLUMNS}"
                ),
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
        with self._statement() as db:
            row = db.execute(
                self._sql(
                    f"SELECT {_ITEM_COLUMNS} FROM group_items WHERE group_id = ? AND dedup_key = ?"
                ),
                (group_id, dedup_key),
            ).fetchone()
        return _item(row) if row else None

    def put_group_item(self, item: NewGroupItem, *, changed: bool) -> None:
        now = self.clock.time()
        with self._write() as db:
            db.execute(
                self._sql(
                    "INSERT INTO group_items (group_id, dedup_key, delivery_id, message_id,"
                    " created, updated, severity, state, message, seen, changed)"
                    " VALUES (?,?,?,?,?,?,?,?,?,1,?) ON CONFLICT (group_id, dedup_key)"
                    " DO UPDATE SET delivery_id = excluded.delivery_id,"
                    " message_id = excluded.message_id, updated = excluded.updated,"
                    " severity = excluded.severity, state = excluded.state,"
                    " message = excluded.message, seen = group_items.seen + 1,"
                    " changed = excluded.changed"
                ),
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
                self._sql("UPDATE delivery_groups SET due = ?, updated = ? WHERE id = ?"),
                (due, self.clock.time(), group_id),
            )

    # -- flushing --------------------------------------------------------------------

    def next_group_due(self) -> float | None:
        with self._statement() as db:
            (due,) = db.execute(
                f"SELECT MIN({self._dialect.greatest}(due, COALESCE(lease_until, due)))"
                " FROM delivery_groups WHERE due IS NOT NULL"
            ).fetchone()
        return float(due) if due is not None else None

    def claim_groups(self, owner: str, *, limit: int, lease: float) -> list[GroupRow]:
        now = self.clock.time()
        with self._write() as db:
            rows = db.execute(
                self._sql(
                    "UPDATE delivery_groups SET lease_owner = ?, lease_until = ?, updated = ?"
                    " WHERE id IN (SELECT id FROM delivery_groups WHERE due <= ?"
                    " AND (lease_until IS NULL OR lease_until < ?) ORDER BY due LIMIT ?"
                    f"{self._dialect.skip_locked}) RETURNING {_GROUP_COLUMNS}"
                ),
                (owner, now + lease, now, now, now, limit),
            ).fetchall()
        return sorted(map(_group, rows), key=lambda g: (g.due or 0.0, g.id))

    def group_items(self, group_id: str) -> list[GroupItem]:
        with self._statement() as db:
            rows = db.execute(
                self._sql(
                    f"SELECT {_ITEM_COLUMNS} FROM group_items WHERE group_id = ?"
                    f" ORDER BY created, {self._dialect.arrival}"
                ),
                (group_id,),
            ).fetchall()
        return [_item(r) for r in rows]

    def settle_group(self, settlement: GroupSettlement) -> bool:
        s = settlement
        now = self.clock.time()
        sql = self._sql
        with self._write() as db:
            held = db.execute(
                sql("UPDATE delivery_groups SET updated = ? WHERE id = ? AND lease_owner = ?"),
                (now, s.group_id, s.owner),
            ).rowcount
            if not held:
                return False  # the claim expired and another worker took the group
            summary_id = s.summary.id if s.summary is not None else None
            if s.summary is not None:
                self.add([s.summary])
                self._executemany(
                    db,
                    sql(f"INSERT INTO group_carried ({_CARRIED_COLUMNS}) VALUES (?,?,?,?,?,?,?)"),
                    [_values(c) for c in s.carried],
                )
            self._executemany(
                db,
                sql(
                    "UPDATE group_items SET changed = 0, sent_in = ?"
                    " WHERE group_id = ? AND dedup_key = ? AND delivery_id = ?"
                ),
                [(summary_id, s.group_id, key, delivery) for key, delivery in s.sent],
            )
            self._executemany(
                db,
                sql(
                    "DELETE FROM group_items"
                    " WHERE group_id = ? AND dedup_key = ? AND delivery_id = ?"
                ),
                [(s.group_id, key, delivery) for key, delivery in s.removed],
            )
            self._executemany(
                db,
                sql("UPDATE deliveries SET last_error = ?, updated = ? WHERE id = ?"),
                [(reason, now, delivery) for delivery, reason in s.reasons],
            )
            gone = db.execute(
                sql(
                    "DELETE FROM delivery_groups WHERE id = ? AND NOT EXISTS"
                    " (SELECT 1 FROM group_items WHERE group_id = ?)"
                ),
                (s.group_id, s.group_id),
            ).rowcount
            if not gone:
                # typed: PostgreSQL cannot tell the type of a CASE of two NULL arguments
                db.execute(
                    sql(
                        "UPDATE delivery_groups SET due = CASE WHEN EXISTS (SELECT 1 FROM"
                        " group_items WHERE group_id = ? AND changed = 1)"
                        " THEN CAST(? AS DOUBLE PRECISION) ELSE CAST(? AS DOUBLE PRECISION) END,"
                        " last_sent = COALESCE(?, last_sent),"
                        " last_delivery = COALESCE(?, last_delivery),"
                        " lease_owner = NULL, lease_until = NULL, updated = ? WHERE id = ?"
                    ),
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
        with self._statement() as db:
            return [_group(r) for r in db.execute(self._sql(sql), args).fetchall()]

    def carried(self, delivery_id: str) -> list[CarriedItem]:
        with self._statement() as db:
            rows = db.execute(
                self._sql(
                    f"SELECT {_CARRIED_COLUMNS} FROM group_carried WHERE delivery_id = ?"
                    " ORDER BY position"
                ),
                (delivery_id,),
            ).fetchall()
        return [_carried(r) for r in rows]

    def carried_counts(self, delivery_ids: Sequence[str]) -> dict[str, int]:
        ids = list(delivery_ids)
        counts: dict[str, int] = {}
        with self._statement() as db:
            for start in range(0, len(ids), 500):  # under SQLite's limit on bound variables
                chunk = ids[start : start + 500]
                rows = db.execute(
                    self._sql(
                        "SELECT delivery_id, COUNT(*) FROM group_carried WHERE delivery_id IN"
                        f" ({', '.join('?' * len(chunk))}) GROUP BY delivery_id"
                    ),
                    chunk,
                ).fetchall()
                counts.update((delivery, int(count)) for delivery, count in rows)
        return counts

    def carriers(self, item_delivery: str) -> list[str]:
        with self._statement() as db:
            rows = db.execute(
                self._sql(
                    "SELECT delivery_id FROM group_carried WHERE item_delivery = ?"
                    " ORDER BY delivery_id"
                ),
                (item_delivery,),
            ).fetchall()
        return [str(r[0]) for r in rows]


def _values(record: CarriedItem) -> tuple[object, ...]:
    """A record's columns as parameters: flags as 0/1 (the schema's INTEGER columns)."""
    return tuple(int(v) if isinstance(v, bool) else v for v in attrs.astuple(record))
