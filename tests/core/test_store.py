"""The store is the outbox: rows exist before sends, claims are exclusive and leased."""

from __future__ import annotations

import contextlib
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


@pytest.fixture
def store_at(store_db):
    """``store_at(clock=None)``: a store on ``store_db`` (every call a new connection)."""
    made = []

    def make(clock=None):
        made.append(open_store(store_db, clock=clock or FakeClock()))
        return made[-1]

    yield make
    for store in made:
        store.close()


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


def test_two_processes_never_claim_the_same_row(store_at):
    a, b = store_at(), store_at()
    a.add([delivery() for _ in range(50)])
    first = a.claim("a", limit=30, lease=60)
    second = b.claim("b", limit=30, lease=60)
    assert len(first) == 30
    assert len(second) == 20
    assert not {r.id for r in first} & {r.id for r in second}
    assert b.claim("b", limit=30, lease=60) == []


def test_an_expired_lease_comes_back(store_at):
    clock = FakeClock()
    store = store_at(clock)
    store.add([delivery()])
    [row] = store.claim("dead", limit=10, lease=60)
    assert store.claim("alive", limit=10, lease=60) == []
    clock.advance(61)
    [again] = store.claim("alive", limit=10, lease=60)
    assert again.id == row.id
    assert again.lease_owner == "alive"


def test_future_retries_are_not_due(store_at):
    clock = FakeClock()
    store = store_at(clock)
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


def test_release_makes_rows_due_now_and_requeue_keeps_history(store_at):
    store = store_at()
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


def test_auto_disable_after_consecutive_failures_and_success_resets(store_at):
    clock = FakeClock()
    store = store_at(clock)
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


def test_query_filters(store_at):
    store = store_at()
    store.add(
        [
            delivery(event="training.done", channel="a"),
            delivery(event="pipeline.failed", channel="b", status="skipped"),
        ]
    )
    assert [r.channel for r in store.query(event="training.*")] == ["a"]
    assert [r.channel for r in store.query(status="skipped")] == ["b"]
    assert len(store.query(since=store.clock.time() + 10)) == 0


def attempt(row_id: str, number: int, outcome: str = "retry", status: int = 429) -> AttemptRow:
    return AttemptRow(
        delivery_id=row_id,
        number=number,
        started=0,
        duration=0,
        http_status=status,
        outcome=outcome,
        error=f"HTTP {status}",
        response=None,
    )


def test_throttled_attempts_and_a_manual_retry_are_remembered(store_at):
    """What a worker rebuilding the row needs: 429s so far, where the budget began, when."""
    clock = FakeClock()
    store = store_at(clock)
    store.add([delivery()])
    [row] = store.claim("w", limit=1, lease=60)
    store.record_attempt(attempt(row.id, 1), status="pending", owner="w", throttled=True)
    store.record_attempt(attempt(row.id, 2), status="pending", owner="w", throttled=True)
    store.record_attempt(attempt(row.id, 3, "failed", 400), status="failed", owner="w")
    failed = store.get(row.id)
    assert failed is not None
    assert (failed.attempts, failed.throttled, failed.budget_from) == (3, 2, 0)
    assert failed.budget_started == failed.created
    clock.advance(3600)
    assert store.requeue([row.id]) == [row.id]
    again = store.get(row.id)
    assert again is not None
    assert (again.attempts, again.throttled, again.budget_from) == (3, 0, 3)
    assert again.budget_started == clock.time()


def test_claim_ids_takes_only_what_is_free(store_at):
    clock = FakeClock()
    store = store_at(clock)
    rows = [delivery() for _ in range(3)]
    store.add(rows)
    [first] = store.claim_ids("a", [rows[0].id], lease=60)
    assert first.lease_owner == "a"
    taken = store.claim_ids("b", [r.id for r in rows], lease=60)
    assert [r.id for r in taken] == [rows[1].id, rows[2].id]  # not the leased one
    clock.advance(61)
    assert [r.id for r in store.claim_ids("b", [rows[0].id], lease=60)] == [rows[0].id]


def test_find_by_prefix_counts_next_due_and_prune(store_at):
    clock = FakeClock()
    store = store_at(clock)
    rows = [delivery(id=f"abc{i}") for i in range(3)]
    store.add([*rows, delivery(id="abd0", status="skipped"), delivery(id="zz", status="sending")])
    assert len(store.find("abc")) == 2  # at most two: enough to say "ambiguous"
    assert [r.id for r in store.find("abd")] == ["abd0"]
    assert store.find("nope") == []
    assert store.counts() == {"pending": 3, "skipped": 1, "sending": 1}
    assert store.next_due() == clock.time()
    clock.advance(10)
    assert store.prune(clock.time()) == 1  # only the finished one
    assert store.get("abd0") is None and store.get("abc0") is not None


def test_cooldown_lookup_and_tenants(store_at):
    clock = FakeClock()
    store = store_at(clock)
    store.add([delivery(id="a1", dedup_key="k"), delivery(id="t1", dedup_key="k", tenant="acme")])
    since = clock.time() - 1
    assert store.latest("c", None, "k", since) == "a1"
    assert store.latest("c", "acme", "k", since) == "t1"
    assert store.latest("c", "other", "k", since) is None
    assert store.latest("c", None, "k", clock.time() + 1) is None


def test_silences_and_switches_move_changes(store_at):
    from notify_core._store import Silence

    clock = FakeClock()
    store = store_at(clock)
    before = store.changes()
    now = clock.time()
    common = {"channel": None, "tenant": None, "reason": None}
    store.add_silence(Silence(id="s1", created=now, until=now + 60, event="x.*", **common))
    store.add_silence(Silence(id="s2", created=now + 1, until=now + 5, event="*", **common))
    assert store.changes() != before
    assert [s.id for s in store.silences()] == ["s2", "s1"]
    assert [s.id for s in store.silences(active_at=now + 10)] == ["s1"]
    assert store.remove_silence("s1") and not store.remove_silence("s1")
    store.set_enabled("c", False, "noisy")
    state = store.channel_state("c")
    assert state.disabled and state.disabled_reason == "noisy"
    assert set(store.channel_states()) == {"c"}
    store.set_enabled("c", True)
    assert not store.channel_state("c").off


def test_a_failing_call_in_a_transaction_rolls_back_only_itself(store_at):
    store = store_at()
    with store.transaction():
        store.add([delivery(id="ok1")])
        with pytest.raises((sqlite3.IntegrityError, StoreError)):
            store.add([delivery(id="ok1")])  # the same id again
        store.add([delivery(id="ok2")])
    assert {r.id for r in store.query()} == {"ok1", "ok2"}


def test_shared_slots_follow_gcra_and_hash_the_destination(store_at, store_db):
    """Three processes' reservations queue on one pace; only a hash of the URL is stored."""
    from notify_core.testing import stored_bytes

    stores = [store_at() for _ in range(3)]
    interval, burst = 2_000_000, 2  # one every 2 s, burst 2
    secret = "https://hooks.example.com/T000/B000/s3cr3tT0ken"
    waits = [stores[i % 3].reserve_slots(secret, interval, burst)[0] for i in range(6)]
    # two at once, then one every 2 s (less the time the calls themselves took: PostgreSQL
    # uses its own clock, which moves; SQLite here the fake one, which does not)
    assert waits[:2] == [0.0, 0.0]
    for n, wait in enumerate(waits[2:], start=1):
        assert 2 * n - 0.5 < wait <= 2 * n
    stores[0].unreserve_slot(secret, interval)
    [again] = stores[1].reserve_slots(secret, interval, burst)
    assert again == pytest.approx(waits[-1], abs=0.5)
    assert stores[2].reserve_slots("another", interval, burst, 3) == [0.0, 0.0, 2.0]
    for store in stores:
        store.close()
    assert b"s3cr3tT0ken" not in stored_bytes(store_db)
    assert b"hooks.example.com" not in stored_bytes(store_db)


def one_caller(store, *steps) -> None:
    """What the batch writer does with a single call: no savepoints asked for."""
    with store.transaction(isolated=False):
        for step in steps:
            step()


def swallowed(step):
    def run() -> None:
        with contextlib.suppress(StoreError):
            step()

    return run


def test_one_callers_transaction_fails_whole_and_never_lies(store_at):
    """``isolated=False`` (the batch writer's single call): a failure fails all of it."""
    store = store_at()
    store.add([delivery(id="taken")])
    new, taken = lambda: store.add([delivery(id="new")]), lambda: store.add([delivery(id="taken")])
    with pytest.raises((sqlite3.IntegrityError, StoreError)):
        one_caller(store, new, taken)
    assert store.get("new") is None  # nothing of the failed caller's work was kept
    if store.remote:  # PostgreSQL skips the savepoints: a failure swallowed still fails it
        with pytest.raises(StoreError, match="rolled back"):
            one_caller(store, new, swallowed(taken))
        assert store.get("new") is None


def test_pages_follow_a_cursor_and_never_repeat_or_skip_a_row(store_at):
    """``before`` is the (created, id) of the last row shown: the next page starts after it,
    also among rows of one instant, and rows accepted meanwhile never shift the pages."""
    clock = FakeClock()
    store = store_at(clock)
    store.add([delivery(id=f"a{i}") for i in range(3)])  # three in one instant
    clock.advance(1)
    store.add([delivery(id="b0"), delivery(id="b1")])
    clock.advance(1)
    store.add([delivery(id="c0")])
    newest_first = ["c0", "b1", "b0", "a2", "a1", "a0"]
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = store.query(limit=2, before=cursor)
        if not page:
            break
        pages.append([r.id for r in page])
        cursor = (page[-1].created, page[-1].id)
        clock.advance(1)
        store.add([delivery(id=f"new{len(pages)}")])  # arrives while someone pages
    assert pages == [newest_first[:2], newest_first[2:4], newest_first[4:]]
    # since is inclusive, until exclusive
    start = clock.start
    assert [r.id for r in store.query(since=start + 1, until=start + 2)] == ["b1", "b0"]
    assert [r.id for r in store.query(until=start + 1, limit=None)] == ["a2", "a1", "a0"]


def test_oldest_pending_readiness_and_a_dry_run_prune(store_at):
    clock = FakeClock()
    store = store_at(clock)
    assert store.ready() is None
    assert store.oldest_pending() is None
    store.add([delivery(id="done", status="skipped")])
    clock.advance(5)
    store.add([delivery(id="waiting"), delivery(id="busy", status="sending")], owner="w")
    assert store.oldest_pending() == clock.time()
    clock.advance(5)
    assert store.prune(clock.time(), dry_run=True) == 1
    assert store.get("done") is not None  # only counted
    assert store.prune(clock.time()) == 1
    assert store.get("done") is None and store.oldest_pending() == clock.time() - 5


def test_both_backends_have_every_store_method_with_its_parameters():
    """The protocol is the contract: each backend has each method, with the same parameter
    names, kinds and defaults (mypy checks the types; this also catches a default that
    differs, which mypy allows)."""
    import inspect

    from notify_core._store import Store
    from notify_core._store._pg import PostgresStore
    from notify_core._store._sqlite import SqliteStore

    def parameters(function: object) -> list[tuple[str, object, object]]:
        found = inspect.signature(function).parameters.values()  # type: ignore[arg-type]
        return [(p.name, p.kind, p.default) for p in found]

    methods = {  # the store and every part of the protocol it is made of
        n: f
        for part in Store.__mro__
        if part.__module__.startswith("notify_core._store")
        for n, f in vars(part).items()
        if inspect.isfunction(f) and n[0] != "_"
    }
    assert len(methods) >= 60
    for backend in (SqliteStore, PostgresStore):
        for name, method in methods.items():
            assert parameters(getattr(backend, name)) == parameters(method), (backend, name)
