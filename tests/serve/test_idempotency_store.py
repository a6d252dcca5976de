"""Idempotency keys in the store, on both backends: a claim is atomic, a dead holder's
claim is taken over, an answer is kept for repeats, and old keys are forgotten."""

from __future__ import annotations

import threading

from notify_core._store import open_store
from notify_core.testing import FakeClock


def test_a_key_is_claimed_answered_and_repeated(store_db: str) -> None:
    clock = FakeClock()
    store = open_store(store_db, clock=clock)
    other = open_store(store_db, clock=clock)  # another process serving the same API
    try:
        assert store.idempotency_claim("k", "fp1", stale_after=60) is None  # ours now
        busy = other.idempotency_claim("k", "fp1", stale_after=60)
        assert busy is not None and (busy.fingerprint, busy.answer) == ("fp1", None)
        store.idempotency_complete("k", status=202, answer='{"id": "m1"}')
        clock.advance(3600)  # answered: never stale, however old
        done = other.idempotency_claim("k", "fp2", stale_after=60)
        assert done is not None
        assert (done.fingerprint, done.status, done.answer) == ("fp1", 202, '{"id": "m1"}')
        store.idempotency_release("k")  # answered: a release keeps it
        assert other.idempotency_claim("k", "fp1", stale_after=60) is not None
        assert store.idempotency_prune(clock.time() - 60) == 1
        assert other.idempotency_claim("k", "fp3", stale_after=60) is None  # forgotten
    finally:
        store.close()
        other.close()


def test_a_dead_holders_claim_is_taken_over_and_a_failed_one_released(store_db: str) -> None:
    clock = FakeClock()
    store = open_store(store_db, clock=clock)
    try:
        assert store.idempotency_claim("dead", "fp", stale_after=60) is None
        clock.advance(30)
        assert store.idempotency_claim("dead", "fp", stale_after=60) is not None  # still held
        clock.advance(31)
        assert store.idempotency_claim("dead", "fp-new", stale_after=60) is None  # taken over
        held = store.idempotency_claim("dead", "x", stale_after=60)
        assert held is not None and (held.fingerprint, held.created) == ("fp-new", clock.time())
        assert store.idempotency_claim("failed", "fp", stale_after=60) is None
        store.idempotency_release("failed")  # the request failed: the key is free again
        assert store.idempotency_claim("failed", "fp", stale_after=60) is None
    finally:
        store.close()


def test_many_servers_claiming_one_key_at_once_let_exactly_one_hold_it(store_db: str) -> None:
    stores = [open_store(store_db) for _ in range(6)]
    start = threading.Barrier(len(stores))
    results: list[object] = []
    errors: list[BaseException] = []

    def claim(store) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        try:
            results.append(store.idempotency_claim("once", "fp", stale_after=60))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert errors == []
    assert results.count(None) == 1 and len(results) == len(stores)
