"""The executor seam, ``[notify] executor``/``limiter``, and the by-id task runner.

The task runner is what a task queue's worker runs for one delivery id: these tests play
its cases (due, not due, leased, paced, retried, duplicated) on a real SQLite file and a
real HTTP server, with the time moved by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from notify_core import ConfigError, DeliveryResult, Message, Notifier, Providers, parse_config
from notify_core._limits_gcra import GcraLimiter
from notify_core._limits_redis import RedisLimiter
from notify_core._limits_store import StoreLimiter, limiter_for
from notify_core._writer import BatchWriter
from notify_core.executor import Accepted, LocalExecutor, TaskRunner, load_executor
from notify_core.testing import Answer, FakeClock, query

PROVIDERS = Providers.discover()


def config(url: str, rate: dict | None = None, **notify: object) -> object:
    channel = {
        "provider": "webhook",
        "url": url,
        "timeout": 2,
        "retry": {"attempts": 3, "backoff": 1.0},
        "rate": rate or {"per_second": 1000, "burst": 1000},
    }
    return parse_config({"notify": notify, "channels": {"hook": channel}}, PROVIDERS, env={})


def notifier(tmp_path, url: str, clock=None, rate: dict | None = None, **kwargs) -> Notifier:
    return Notifier(
        config=config(url, rate),
        db=tmp_path / "e.db",
        providers=PROVIDERS,
        env={},
        clock=clock,
        **kwargs,
    )


def queue(n: Notifier, count: int = 1) -> list[str]:
    """Deliveries stored ``pending`` and handed to nobody: what a lost task leaves."""
    ids = []
    for i in range(count):
        result = n.send(Message(title=f"m{i}"), wait=0)
        ids += [d.id for d in result.deliveries]
    return ids


# -- the seam ------------------------------------------------------------------------------


class HandOver:
    """An executor that attempts elsewhere: it keeps what it was handed."""

    attempts_here = False

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.handed: list[str] = []
        self.closed = False

    async def submit(self, accepted: Accepted, *, wait: float) -> list[DeliveryResult]:
        self.notifier.store.add(accepted.rows)
        self.handed += [r.id for r in accepted.rows if r.status == "pending"]
        return []

    async def retry(self, ids: Sequence[str], *, wait: float) -> list[DeliveryResult]:
        self.handed += self.notifier.store.requeue(ids)
        return []

    async def aclose(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True


def test_an_executor_that_attempts_elsewhere_gets_pending_rows_and_send_does_not_wait(
    recorder, tmp_path
):
    made: list[HandOver] = []

    def factory(n: Notifier) -> HandOver:
        made.append(HandOver(n))
        return made[-1]

    with notifier(tmp_path, f"{recorder.url}/hook", executor=factory) as n:
        result = n.send(Message(title="queued"), wait=30)
        assert [(d.status, d.reason, d.attempts) for d in result.deliveries] == [
            ("pending", "queued", 0)
        ]
        assert made[0].handed == [result.deliveries[0].id]
    assert made[0].closed
    assert recorder.requests == []
    rows = query(tmp_path / "e.db", "SELECT status, lease_owner FROM deliveries")
    assert rows == [{"status": "pending", "lease_owner": None}]


def test_the_default_executor_is_local_and_attempts_in_process(recorder, tmp_path):
    with notifier(tmp_path, f"{recorder.url}/hook") as n:
        assert isinstance(n.executor, LocalExecutor)
        assert n.send(Message(title="now")).ok
    assert len(recorder.requests) == 1


def test_an_unknown_executor_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError) as caught:
        load_executor("carrier-pigeon")
    assert "notify.executor" in str(caught.value)
    assert "'carrier-pigeon'" in str(caught.value)
    assert "known: local" in str(caught.value)


def test_executor_and_limiter_are_read_from_notify(tmp_path):
    loaded = parse_config(
        {
            "notify": {"executor": "celery", "limiter": "redis://:s3cr3t@127.0.0.1:6379/1"},
            "celery": {"broker": "redis://127.0.0.1:6379/0"},
        },
        PROVIDERS,
        env={},
    )
    assert loaded.executor == "celery"
    assert loaded.limiter == "redis://:s3cr3t@127.0.0.1:6379/1"
    assert loaded.executor_settings == {"broker": "redis://127.0.0.1:6379/0"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"celery": {"broker": "redis://x"}}, "celery: unknown table; a [celery] table goes with"),
        ({"notify": {"executor": "Celery!"}}, "notify.executor: expected an executor name"),
        ({"notify": {"limiter": "memcached://x"}}, 'notify.limiter: expected "store", "local"'),
        ({"notify": {"limiter": 3}}, "notify.limiter: expected a string"),
        ({"notify": {"executor": "celery"}, "rq": {}}, "rq: unknown table"),
    ],
)
def test_executor_and_limiter_errors_name_the_key(data, expected):
    with pytest.raises(ConfigError) as caught:
        parse_config(data, PROVIDERS, env={}, source="notify.toml")
    assert expected in str(caught.value)


def test_a_limiter_url_s_password_never_shows_in_the_error():
    with pytest.raises(ConfigError) as caught:
        parse_config({"notify": {"limiter": "rediz://:hunter2@h"}}, PROVIDERS, env={})
    assert "hunter2" not in str(caught.value)


def test_limiter_for_picks_the_configured_limiter(tmp_path):
    with notifier(tmp_path, "http://127.0.0.1:9/x") as n:
        writer = BatchWriter(n.store)
        assert isinstance(limiter_for("local", n.store, writer, n.clock), GcraLimiter)
        assert isinstance(limiter_for("store", n.store, writer, n.clock), StoreLimiter)
        redis = limiter_for("redis://127.0.0.1:6379/3", n.store, writer, n.clock)
        assert isinstance(redis, RedisLimiter)


# -- the store's sweep and postpone --------------------------------------------------------


def test_overdue_finds_lost_deliveries_once_per_period(tmp_path):
    clock = FakeClock()
    with notifier(tmp_path, "http://127.0.0.1:9/x", clock=clock) as n:
        lost = queue(n, 2)
        clock.advance(10)
        recent = queue(n)
        leased = n.store.claim_ids("dead-worker", recent, lease=3)
        assert [r.id for r in leased] == recent
        assert sorted(n.store.overdue(before=clock.time() - 5, limit=10)) == sorted(lost)
        assert n.store.overdue(before=clock.time() - 5, limit=10) == []  # made due now
        clock.advance(4)  # the dead worker's lease ended a second ago
        assert n.store.overdue(before=clock.time() - 5, limit=10) == []
        clock.advance(5)
        assert sorted(n.store.overdue(before=clock.time() - 5, limit=10)) == sorted(
            [*lost, *recent]
        )
        rows = query(tmp_path / "e.db", "SELECT status, lease_owner, next_attempt FROM deliveries")
        assert (
            rows == [{"status": "pending", "lease_owner": None, "next_attempt": clock.time()}] * 3
        )


def test_postpone_needs_the_lease_and_sets_when_it_is_due(tmp_path):
    clock = FakeClock()
    with notifier(tmp_path, "http://127.0.0.1:9/x", clock=clock) as n:
        [delivery] = queue(n)
        n.store.claim_ids("me", [delivery], lease=60)
        assert not n.store.postpone(delivery, "someone-else", until=clock.time() + 30, reason="x")
        assert n.store.postpone(delivery, "me", until=clock.time() + 30, reason="paced")
        row = n.store.get(delivery)
        assert row is not None
        assert (row.status, row.lease_owner, row.next_attempt) == (
            "pending",
            None,
            clock.time() + 30,
        )
        assert n.store.claim("worker", limit=10, lease=60) == []  # not due before then


# -- the task runner -----------------------------------------------------------------------


def test_one_task_delivers_and_a_duplicate_is_a_no_op(recorder, tmp_path):
    with notifier(tmp_path, f"{recorder.url}/hook") as n:
        [delivery] = queue(n)
        runner = TaskRunner(n)
        first = runner.attempt(delivery)
        again = runner.attempt(delivery)
    assert (first.why, first.again_at) == ("delivered", None)
    assert (again.why, again.again_at, again.result) == ("already delivered", None, None)
    assert [r.header("Idempotency-Key") for r in recorder.requests] == [delivery]


def test_a_transient_failure_leaves_the_row_pending_for_the_task_to_come_back(recorder, tmp_path):
    recorder.script(Answer(503, "busy", headers={"Retry-After": "7"}))
    clock = FakeClock()
    with notifier(tmp_path, f"{recorder.url}/hook", clock=clock) as n:
        [delivery] = queue(n)
        runner = TaskRunner(n)
        step = runner.attempt(delivery)
        early = runner.attempt(delivery)  # a duplicate, or a broker early: not yet
        clock.advance(7)
        done = runner.attempt(delivery)
    assert (step.why, step.again_at) == ("retry", clock.start + 7)
    assert (early.why, early.again_at) == ("not due yet", clock.start + 7)
    assert done.why == "delivered"
    assert len(recorder.requests) == 2
    assert clock.slept == []  # no task ever slept through the backoff
    attempts = query(tmp_path / "e.db", "SELECT number, http_status FROM attempts")
    assert attempts == [{"number": 1, "http_status": 503}, {"number": 2, "http_status": 200}]


def test_a_delivery_leased_elsewhere_comes_back_when_the_lease_ends(recorder, tmp_path):
    clock = FakeClock()
    with notifier(tmp_path, f"{recorder.url}/hook", clock=clock) as n:
        [delivery] = queue(n)
        n.store.claim_ids("another-worker", [delivery], lease=30)
        runner = TaskRunner(n)
        step = runner.attempt(delivery)
        clock.advance(31)  # that worker died: its lease ended
        done = runner.attempt(delivery)
    assert (step.why, step.again_at) == ("leased by another worker", clock.start + 30)
    assert done.why == "delivered"
    assert len(recorder.requests) == 1


def test_a_far_slot_is_kept_and_the_task_freed(recorder, tmp_path):
    clock = FakeClock()
    rate = {"per_second": 0.5, "burst": 1}  # one every 2 s
    with notifier(tmp_path, f"{recorder.url}/hook", clock=clock, rate=rate) as n:
        first, second = queue(n, 2)
        runner = TaskRunner(n, max_pace_wait=0.5)
        assert (runner.attempt(first)).why == "delivered"
        paced = runner.attempt(second)
        row = n.store.get(second)
        assert row is not None
        assert (paced.why, paced.slot) == ("paced", clock.start + 2)
        assert paced.again_at == clock.start + 2 - runner.lead
        # the row says when its task comes back; no attempt was spent
        assert (row.status, row.next_attempt, row.attempts) == ("pending", paced.slot, 0)
        clock.advance(paced.again_at - clock.time())
        done = runner.attempt(second, slot=paced.slot)
    assert done.why == "delivered"
    assert clock.slept == [pytest.approx(runner.lead)]  # only the last short stretch
    assert len(recorder.requests) == 2


def test_a_slot_used_too_late_is_given_up_for_a_new_one(recorder, tmp_path):
    clock = FakeClock()
    rate = {"per_second": 0.5, "burst": 1}
    with notifier(tmp_path, f"{recorder.url}/hook", clock=clock, rate=rate) as n:
        first, second = queue(n, 2)
        runner = TaskRunner(n, max_pace_wait=0.5)
        runner.attempt(first)
        paced = runner.attempt(second)
        clock.advance(10)  # the task came back long after its slot (a busy worker)
        done = runner.attempt(second, slot=paced.slot)
    assert done.why == "delivered"  # a fresh slot: the limiter was idle for 10 s


def test_a_manual_retry_carries_a_fresh_budget(recorder, tmp_path):
    recorder.script(503, 503, 503, 503)  # three attempts spend the budget, then one more 503
    clock = FakeClock()
    with notifier(tmp_path, f"{recorder.url}/hook", clock=clock) as n:
        [delivery] = queue(n)
        runner = TaskRunner(n)
        step = runner.attempt(delivery)
        while step.again_at is not None:
            clock.advance(step.again_at - clock.time())
            step = runner.attempt(delivery)
        assert step.why == "failed"
        assert n.store.requeue([delivery]) == [delivery]
        retried = runner.attempt(delivery, budget_from=3)  # what notify retry sends
        assert (retried.why, retried.budget_from) == ("retry", 3)
        assert retried.again_at is not None
        clock.advance(retried.again_at - clock.time())
        done = runner.attempt(delivery, budget_from=3)
    assert done.why == "delivered"
    assert done.result is not None and done.result.attempts == 5


def test_the_runner_rechecks_switches_before_sending(recorder, tmp_path):
    with notifier(tmp_path, f"{recorder.url}/hook") as n:
        [delivery] = queue(n)
        n.store.set_enabled("hook", False)
        runner = TaskRunner(n)
        step = runner.attempt(delivery)
    assert step.why == "skipped"
    assert recorder.requests == []


def test_a_sweep_returns_what_no_task_carries(recorder, tmp_path):
    clock = FakeClock()
    with notifier(tmp_path, f"{recorder.url}/hook", clock=clock) as n:
        lost = queue(n, 3)
        runner = TaskRunner(n)
        assert runner.sweep(older_than=60) == []
        clock.advance(61)
        assert sorted(runner.sweep(older_than=60)) == sorted(lost)


def test_a_shared_limiter_that_cannot_be_reached_leaves_the_send_queued(recorder, tmp_path):
    from notify_core.testing._services import free_port

    down = f"redis://:hunter2hunter2@127.0.0.1:{free_port()}/0"
    config = parse_config(
        {
            "notify": {"limiter": down},
            "channels": {"hook": {"provider": "webhook", "url": f"{recorder.url}/hook"}},
        },
        PROVIDERS,
        env={},
    )
    with Notifier(config=config, db=tmp_path / "e.db", providers=PROVIDERS, env={}) as n:
        [delivery] = n.send(Message(title="paced elsewhere")).deliveries
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert delivery.reason.startswith("rate limiter: Redis at redis://:***@127.0.0.1")
    assert "hunter2" not in delivery.reason
    assert recorder.requests == []
    rows = query(tmp_path / "e.db", "SELECT status, lease_owner FROM deliveries")
    assert rows == [{"status": "pending", "lease_owner": None}]  # due now, for a worker


def test_an_auto_disable_in_a_task_hands_its_announcement_to_the_queue(recorder, tmp_path):
    recorder.script(Answer(404, "gone"), path="/hook")
    config = parse_config(
        {
            "notify": {"auto_disable_after": 1},
            "channels": {
                "hook": {"provider": "webhook", "url": f"{recorder.url}/hook", "events": ["job.*"]},
                "owner": {
                    "provider": "webhook",
                    "url": f"{recorder.url}/owner",
                    "events": ["notify.channel.disabled"],
                },
            },
        },
        PROVIDERS,
        env={},
    )
    with Notifier(config=config, db=tmp_path / "e.db", providers=PROVIDERS, env={}) as n:
        [delivery] = n.send(Message(title="x", event="job.done"), wait=0).deliveries
        step = TaskRunner(n).attempt(delivery.id)
        assert step.why == "failed"
        [announced] = step.announced  # written pending; the task publishes it
        row = n.store.get(announced)
        assert row is not None
        assert (row.channel, row.event, row.status) == (
            "owner",
            "notify.channel.disabled",
            "pending",
        )


@pytest.fixture(params=["sqlite", "postgres"])
def any_store_location(request, tmp_path):
    """The same checks on both stores: the task-queue executor needs nothing else of them."""
    if request.param == "sqlite":
        return str(tmp_path / "s.db")
    return request.getfixturevalue("postgres_url")


def test_both_stores_sweep_and_postpone_alike(any_store_location):
    from notify_core._store import NewDelivery, new_id, open_store

    clock = FakeClock()
    store = open_store(any_store_location, clock=clock)
    try:

        def row(i: int) -> NewDelivery:
            return NewDelivery(
                id=new_id(clock.time()) + str(i), message_id="m", event="e", severity="info",
                tenant=None, channel="c", provider="webhook", target="t", message="{}",
                payload=None, status="pending",
            )  # fmt: skip

        lost, held = row(1), row(2)
        store.add([lost, held])
        assert [r.id for r in store.claim_ids("worker", [held.id], lease=60)] == [held.id]
        assert store.postpone(held.id, "worker", until=clock.time() + 100, reason="paced")
        assert not store.postpone(held.id, "worker", until=clock.time(), reason="no lease")
        clock.advance(30)
        assert store.overdue(before=clock.time() - 10, limit=10, pending=False) == []
        assert store.overdue(before=clock.time() - 10, limit=10) == [lost.id]
        assert store.overdue(before=clock.time() - 10, limit=10) == []  # made due now
        postponed = store.get(held.id)
        assert postponed is not None
        assert (postponed.status, postponed.next_attempt, postponed.last_error) == (
            "pending",
            clock.start + 100,
            "paced",
        )
    finally:
        store.close()
