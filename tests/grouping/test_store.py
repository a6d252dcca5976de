"""The groups' SQL on a real SQLite file and a real PostgreSQL: migration, claims, all-or-nothing
settlements."""

from __future__ import annotations

import sqlite3

from notify_core._store import (
    CarriedItem,
    GroupSettlement,
    NewDelivery,
    NewGroup,
    NewGroupItem,
    open_store,
)
from notify_core._store._sqlite_schema import MIGRATIONS, SCHEMA_VERSION
from notify_core.testing import FakeClock, query

GROUP = NewGroup(
    id="g1",
    kind="group",
    channel="ops",
    tenant=None,
    provider="webhook",
    key="ops{event=e}",
    labels='{"event": "e"}',
)


def item(key: str, delivery: str, state: str = "firing") -> NewGroupItem:
    return NewGroupItem(
        group_id="g1",
        dedup_key=key,
        delivery_id=delivery,
        message_id="m",
        severity="info",
        state=state,
        message="{}",
    )


def summary(delivery_id: str) -> NewDelivery:
    return NewDelivery(
        id=delivery_id,
        message_id="ms",
        event="e",
        severity="info",
        tenant=None,
        channel="ops",
        provider="webhook",
        target="t",
        message="{}",
        payload=None,
        status="pending",
    )


def test_a_database_from_before_grouping_is_migrated_and_keeps_its_rows(tmp_path):
    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    for version in (1, 2):
        con.executescript(MIGRATIONS[version])
    con.execute(
        "INSERT INTO deliveries (id, message_id, created, updated, channel, provider, message,"
        " status) VALUES ('d1', 'm1', 1, 1, 'ops', 'webhook', '{}', 'delivered')"
    )
    con.execute("PRAGMA user_version = 2")
    con.commit()
    con.close()
    store = open_store(db)
    try:
        assert store.get("d1") is not None
        assert store.groups() == []
        assert store.next_group_due() is None
    finally:
        store.close()
    assert query(db, "PRAGMA user_version") == [{"user_version": SCHEMA_VERSION}]
    tables = {r["name"] for r in query(db, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"delivery_groups", "group_items", "group_carried"} <= tables


def test_items_are_replaced_by_dedup_key_and_keep_their_place(store_db):
    clock = FakeClock()
    store = open_store(store_db, clock=clock)
    with store.transaction():
        row = store.upsert_group(GROUP)
        store.put_group_item(item("a", "d1"), changed=True)
        clock.advance(1)
        store.put_group_item(item("b", "d2"), changed=True)
        clock.advance(1)
        store.put_group_item(item("a", "d3", "resolved"), changed=True)
    assert row.created == clock.start and row.due is None
    a, b = store.group_items("g1")
    assert (a.dedup_key, a.delivery_id, a.state, a.seen) == ("a", "d3", "resolved", 2)
    assert (a.created, a.updated) == (clock.start, clock.start + 2)
    assert b.dedup_key == "b"
    again = store.upsert_group(GROUP)  # touching keeps the group's birth
    assert again.created == clock.start and again.updated == clock.start + 2
    store.close()


def test_a_due_group_is_claimed_once_until_its_lease_ends(store_db):
    clock = FakeClock()
    store = open_store(store_db, clock=clock)
    store.upsert_group(GROUP)
    store.put_group_item(item("a", "d1"), changed=True)
    store.set_group_due("g1", clock.time() + 30)
    assert store.claim_groups("w1", limit=5, lease=10) == []  # not due yet
    assert store.next_group_due() == clock.time() + 30
    clock.advance(30)
    [claimed] = store.claim_groups("w1", limit=5, lease=10)
    assert claimed.lease_owner == "w1"
    assert store.claim_groups("w2", limit=5, lease=10) == []
    assert store.next_group_due() == clock.time() + 10  # when the claim would expire
    clock.advance(11)
    [taken] = store.claim_groups("w2", limit=5, lease=10)
    assert taken.lease_owner == "w2"
    store.close()


def test_a_settlement_is_all_or_nothing_and_spares_what_changed_meanwhile(store_db):
    clock = FakeClock()
    store = open_store(store_db, clock=clock)
    store.upsert_group(GROUP)
    store.put_group_item(item("a", "d1"), changed=True)
    store.put_group_item(item("b", "d2", "resolved"), changed=True)
    store.set_group_due("g1", clock.time())
    store.claim_groups("w1", limit=5, lease=10)
    # a message replaces item a after the flush read it
    store.put_group_item(item("a", "d9"), changed=True)
    settlement = GroupSettlement(
        group_id="g1",
        owner="w1",
        summary=summary("s1"),
        carried=[
            CarriedItem(
                delivery_id="s1",
                position=0,
                item_delivery="d1",
                dedup_key="a",
                state="firing",
                title="A",
                new=True,
            )
        ],
        sent=[("a", "d1")],
        removed=[("b", "d2")],
        sent_at=clock.time(),
        due_quiet=clock.time() + 3600,
        due_changed=clock.time() + 300,
    )
    stale = GroupSettlement(group_id="g1", owner="w2", summary=summary("s0"))
    assert store.settle_group(stale) is False  # not the claim's owner: nothing written
    assert store.get("s0") is None
    assert store.settle_group(settlement) is True
    [a] = store.group_items("g1")
    assert (a.delivery_id, a.changed, a.sent_in) == ("d9", True, None)  # still news
    [group] = store.groups()
    assert group.due == clock.time() + 300  # due for the news, not the quiet time
    assert (group.last_sent, group.last_delivery, group.lease_owner) == (
        clock.time(),
        "s1",
        None,
    )
    assert [c.item_delivery for c in store.carried("s1")] == ["d1"]
    assert store.carried_counts(["s1", "d1"]) == {"s1": 1}
    assert store.carriers("d1") == ["s1"]
    assert store.get("s1") is not None and store.get("s1").status == "pending"
    store.close()


def test_a_group_with_nothing_left_is_removed(store_db):
    clock = FakeClock()
    store = open_store(store_db, clock=clock)
    store.upsert_group(GROUP)
    store.put_group_item(item("a", "d1", "resolved"), changed=True)
    store.set_group_due("g1", clock.time())
    store.claim_groups("w1", limit=5, lease=10)
    done = GroupSettlement(group_id="g1", owner="w1", removed=[("a", "d1")])
    assert store.settle_group(done) is True
    assert store.groups() == [] and store.group_items("g1") == []
    store.close()
