"""A 429 never costs a message: "slow down" is retried when asked, until the deadline.

Each runs on both stores: what a delivery has spent must survive a worker rebuilding it
from its row, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import asyncio

import pytest

from notify_core import Channel, Message, Notifier, RetryPolicy
from notify_core.testing import Answer, FakeClock, RecordingServer


def notifier(db: str, url: str, retry: RetryPolicy, clock: FakeClock | None = None) -> Notifier:
    channel = Channel(name="sink", provider="webhook", url=f"{url}/hook", retry=retry, timeout=2)
    return Notifier(channels=[channel], db=db, env={}, clock=clock)


def worker_once(n: Notifier) -> dict[str, int]:
    return asyncio.run(n.run_worker(once=True))


def throttled(retry_after: str = "0") -> Answer:
    return Answer(429, "slow down", headers={"Retry-After": retry_after})


def test_a_429_storm_costs_no_retry_budget(recorder: RecordingServer, store_db: str) -> None:
    recorder.script(*[throttled()] * 5)  # then 200
    retry = RetryPolicy(attempts=2, backoff=0.01)
    with notifier(store_db, recorder.url, retry) as n:
        [d] = n.send(Message(title="storm"), wait=30).deliveries
        row = n.store.get(d.id)
    assert (d.status, d.attempts) == ("delivered", 6)
    assert len(recorder.requests) == 6
    assert row is not None and row.throttled == 5
    keys = {r.header("Idempotency-Key") for r in recorder.requests}
    assert keys == {d.id}  # one delivery, six tries


def test_transient_failures_still_spend_the_budget_between_throttles(
    recorder: RecordingServer, store_db: str
) -> None:
    recorder.script(throttled(), Answer(503, "busy"), throttled(), Answer(503, "busy"))
    retry = RetryPolicy(attempts=2, backoff=0.01)
    with notifier(store_db, recorder.url, retry) as n:
        [d] = n.send(Message(title="x"), wait=30).deliveries
    assert d.status == "failed"
    assert d.attempts == 4  # two 429s free of charge, two 503s: the budget of 2
    assert d.reason.startswith("gave up after 2 attempts: HTTP 503")


def test_a_worker_rebuilding_the_row_knows_the_budget_left(
    recorder: RecordingServer, store_db: str
) -> None:
    """The sender hands over after a 429; the worker must not count it against the budget."""
    clock = FakeClock()
    recorder.script(throttled("60"), throttled(), Answer(503, "busy"))  # then 200
    retry = RetryPolicy(attempts=2, backoff=0.01)
    with notifier(store_db, recorder.url, retry, clock) as n:
        [d] = n.send(Message(title="x"), wait=5).deliveries
        assert (d.status, d.attempts) == ("pending", 1)  # Retry-After 60 s beyond the wait
        delivered = failed = 0
        for _ in range(3):  # the backoff after the 503 is due a moment later
            clock.advance(60)
            totals = worker_once(n)
            delivered, failed = delivered + totals["delivered"], failed + totals["failed"]
        row = n.store.get(d.id)
    assert (delivered, failed) == (1, 0)
    assert row is not None and (row.status, row.attempts, row.throttled) == ("delivered", 4, 2)


def test_a_retry_after_beyond_max_delay_is_obeyed(recorder: RecordingServer, store_db: str) -> None:
    clock = FakeClock()
    recorder.script(throttled("3600"))
    retry = RetryPolicy(attempts=3, backoff=0.01, max_delay=5)
    with notifier(store_db, recorder.url, retry, clock) as n:
        [d] = n.send(Message(title="x"), wait=10).deliveries
    assert d.status == "pending"
    assert d.next_attempt == pytest.approx(clock.time() + 3600)  # not capped at 5 s


def test_the_deadline_ends_what_the_provider_keeps_refusing(
    recorder: RecordingServer, store_db: str
) -> None:
    clock = FakeClock()
    recorder.script(throttled("7200"))
    retry = RetryPolicy(attempts=3, backoff=0.01, deadline=3600)
    with notifier(store_db, recorder.url, retry, clock) as n:
        [d] = n.send(Message(title="x"), wait=10).deliveries
        state = n.store.channel_state("sink")
    assert (d.status, d.attempts) == ("failed", 1)
    assert d.reason.startswith("gave up: the next attempt would fall after the retry deadline")
    assert "(1h after acceptance): HTTP 429" in d.reason
    assert state.consecutive_failures == 1  # a delivery given up counts toward auto-disable


def test_the_deadline_counts_from_acceptance_across_workers(
    recorder: RecordingServer, store_db: str
) -> None:
    clock = FakeClock()
    recorder.default = throttled("600")
    retry = RetryPolicy(attempts=3, backoff=0.01, deadline=1500)
    with notifier(store_db, recorder.url, retry, clock) as n:
        [d] = n.send(Message(title="x"), wait=1).deliveries
        for _ in range(5):
            clock.advance(600)
            worker_once(n)
        row = n.store.get(d.id)
    # tries at 0, 600 and 1200 (each a worker's, rebuilding the row); the next would be at
    # 1800, past the deadline: three 429s, no budget spent, and still given up
    assert row is not None and (row.status, row.attempts) == ("failed", 3)
    assert "retry deadline (25m after acceptance)" in (row.last_error or "")
