"""The store is the outbox: rows exist before sends, claims are exclusive and leased."""

from __future__ import annotations

import sqlite3
import time

import pytest

from notify_core import Channel, StoreError
from notify_core._health import Health
from notify_core._store import AttemptRow, NewDelivery, new_id, open_store
from notify_core._store._sqlite import SCHEMA_VERSION
from notify_core.testing import FakeClock


def Store(path, clock=None):
    return open_store(path, clock=clock or FakeClock())


def delivery(status: str = "pending", **kw: object) -> NewDelivery:
    base = dict(
        id=new_id(time.time()),
        message_id="m",
        event="e",
        severity="info",
        tenant=None,
        channel="c",
        provider="webhook",
        target="http://x",
        message="{}",
        payload="{}",
        status=status,
    )
    base.update(kw)
    return NewDelivery(**base)  # type: ignore[arg-type]


def test_schema_is_versioned_and_wal(tmp_path):
    Store(tmp_path / "s.db").close()
    con = sqlite3.connect(tmp_path / "s.db")
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_newer_schema_is_refused(tmp_path):
    Store(tmp_path / "s.db").close()
    con = sqlite3.connect(tmp_path / "s.db")
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(StoreError, match="newer than this notify"):
        Store(tmp_path / "s.db")


def test_unopenable_path_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "missing" / "s.db")


def test_two_processes_never_claim_the_same_row(tmp_path):
    a, b = Store(tmp_path / "s.db"), Store(tmp_path / "s.db")
    a.add([delivery() for _ in range(50)])
    first = a.claim("a", limit=30, lease=60)
    second = b.claim("b", limit=30, lease=60)
    assert len(first) == 30
    assert len(second) == 20
    assert not {r.id for r in first} & {r.id for r in second}
    assert b.claim("b", limit=30, lease=60) == []


def test_an_expired_lease_comes_back(tmp_path):
    clock = FakeClock()
    store = Store(tmp_path / "s.db", clock)
    store.add([delivery()])
    [row] = store.claim("dead", limit=10, lease=60)
    assert store.claim("alive", limit=10, lease=60) == []
    clock.advance(61)
    [again] = store.claim("alive", limit=10, lease=60)
    assert again.id == row.id
    assert again.lease_owner == "alive"


def test_future_retries_are_not_due(tmp_path):
    clock = FakeClock()
    store = Store(tmp_path / "s.db", clock)
    store.add([delivery(status="sending")], owner="me", lease=60)
    clock.advance(61)
    [row] = store.claim("me", limit=1, lease=60)
    attempt = AttemptRow(
        delivery_id=row.id,
        number=1,
        started=clock.time(),
        duration=0.1,
        http_status=503,
        outcome="retry",
        error="HTTP 503",
        response="x" * 5000,
    )
    store.record_attempt(attempt, status="pending", owner="me", next_attempt=clock.time() + 100)
    assert store.claim("me", limit=1, lease=60) == []
    clock.advance(101)
    assert store.claim("me", limit=1, lease=60)[0].attempts == 1
    [stored] = store.attempts(row.id)
    assert len(stored.response or "") == 2048


def test_release_makes_rows_due_now_and_requeue_keeps_history(tmp_path):
    store = Store(tmp_path / "s.db")
    store.add([delivery(status="sending")], owner="me", lease=600)
    row = store.query()[0]
    assert store.release([row.id], "someone-else") == 0
    assert store.release([row.id], "me") == 1
    assert store.get(row.id).status == "pending"  # type: ignore[union-attr]
    [claimed] = store.claim("w", limit=1, lease=60)
    store.record_attempt(
        AttemptRow(
            delivery_id=claimed.id,
            number=1,
            started=0,
            duration=0,
            http_status=404,
            outcome="failed",
            error="gone",
            response=None,
        ),
        status="failed",
        owner="w",
    )
    assert store.requeue([claimed.id]) == [claimed.id]
    assert store.requeue([claimed.id]) == []  # pending already: nothing to do
    again = store.get(claimed.id)
    assert again is not None and again.status == "pending" and again.attempts == 1
    assert len(store.attempts(claimed.id)) == 1


def test_auto_disable_after_consecutive_failures_and_success_resets(tmp_path):
    clock = FakeClock()
    store = Store(tmp_path / "s.db", clock)
    disabled = []
    health = Health(store, clock=clock, auto_disable_after=3, on_disabled=disabled.append)
    channel = Channel(name="c", provider="webhook", url="http://x")
    for _ in range(2):
        assert health.failure(channel, "boom") is None
    health.success("c")
    assert store.channel_state("c").consecutive_failures == 0
    results = [health.failure(channel, "boom") for _ in range(4)]
    assert [r is not None for r in results] == [False, False, True, False]  # once, not twice
    assert [d.channel.key for d in disabled] == ["c"]
    state = store.channel_state("c")
    assert state.auto_disabled and state.off
    assert "3 consecutive failures" in (state.disabled_reason or "")
    store.set_enabled("c", True)
    assert not store.channel_state("c").off


def test_query_filters(tmp_path):
    store = Store(tmp_path / "s.db")
    store.add(
        [
            delivery(event="training.done", channel="a"),
            delivery(event="pipeline.failed", channel="b", status="skipped"),
        ]
    )
    assert [r.channel for r in store.query(event="training.*")] == ["a"]
    assert [r.channel for r in store.query(status="skipped")] == ["b"]
    assert len(store.query(since=store.clock.time() + 10)) == 0
