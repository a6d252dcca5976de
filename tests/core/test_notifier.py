"""The library API: routing, tenants, kill switches, health, results, async twins."""

from __future__ import annotations

import httpx
import pytest

from notify_core import (
    Channel,
    ConfigError,
    Message,
    Notifier,
    Providers,
    RetryPolicy,
    parse_config,
)

PROVIDERS = Providers.discover()


class Sink:
    """An httpx transport that answers from a script and remembers what it got."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        return httpx.Response(status, text="ok" if status < 300 else f"err {status}")

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def notifier(
    where,
    config: dict | None = None,
    sink: Sink | None = None,
    env: dict[str, str] | None = None,
    **kw,
) -> Notifier:
    """A notifier whose store is in the folder ``where``, or at ``where`` (``store_db``)."""
    parsed = parse_config(config or {}, PROVIDERS, env={})
    return Notifier(
        config=parsed,
        db=where if isinstance(where, str) else where / "n.db",
        providers=PROVIDERS,
        transport=httpx.MockTransport(sink or Sink()),
        env=env or {},
        **kw,
    )


CONFIG = {
    "channels": {
        "ml": {"provider": "webhook", "url": "http://sink/ml", "events": ["training.*"]},
        "oncall": {"provider": "webhook", "url": "http://sink/oncall", "min_severity": "error"},
    },
    "tenants": {
        "acme": {"channels": {"acme": {"provider": "webhook", "url": "http://sink/acme"}}},
        "empty": {"channels": {}},
    },
    "events": {
        "training.complete": {"title": "Done: {experiment}", "fields": {"Acc": "{accuracy}"}}
    },
}


def test_routing_by_event_and_severity(tmp_path):
    sink = Sink()
    with notifier(tmp_path, CONFIG, sink) as n:
        n.send(Message(title="a", event="training.complete"))
        n.send(Message(title="b", event="training.failed", severity="error"))
        n.send(Message(title="c", event="pipeline.failed", severity="warning"))
    assert sink.paths() == ["/ml", "/ml", "/oncall"]


def test_tenants_use_their_channels_or_fall_back_to_root(tmp_path):
    sink = Sink()
    with notifier(tmp_path, CONFIG, sink) as n:
        n.emit("training.complete", {"experiment": "e1", "accuracy": 0.9}, tenant="acme")
        n.emit("training.complete", {"experiment": "e2", "accuracy": 0.8}, tenant="empty")
        n.emit("training.complete", {"experiment": "e3", "accuracy": 0.7}, tenant="unknown")
    assert sink.paths() == ["/acme", "/ml", "/ml"]
    bodies = [r.read() for r in sink.requests]
    assert b"Done: e1" in bodies[0] and b'"tenant":"acme"' in bodies[0]
    # a tenant that falls back to root channels still gets its deliveries labelled
    assert b'"tenant":"empty"' in bodies[1]
    assert b'"tenant":"unknown"' in bodies[2]


def test_result_lists_each_delivery(store_db):
    sink = Sink(500, 200)
    config = {
        "channels": {
            "a": {
                "provider": "webhook",
                "url": "http://sink/a",
                "retry": {"attempts": 3, "backoff": 0.01},
            }
        }
    }
    with notifier(store_db, config, sink) as n:
        result = n.send(Message(title="x"), to=["a"])
    [d] = result.deliveries
    assert result.ok
    assert (d.channel, d.status, d.attempts, d.http_status) == ("a", "delivered", 2, 200)


@pytest.mark.parametrize(
    ("env", "config_extra", "reason"),
    [
        ({"NOTIFY_DISABLED": "1"}, {}, "NOTIFY_DISABLED is set"),
        ({"NOTIFY_WEBHOOK_ENABLED": "false"}, {}, "NOTIFY_WEBHOOK_ENABLED=false"),
        ({}, {"enabled": False}, "disabled in configuration"),
    ],
)
def test_kill_switches_record_skipped(store_db, env, config_extra, reason):
    sink = Sink()
    config = {"channels": {"a": {"provider": "webhook", "url": "http://sink/a", **config_extra}}}
    with notifier(store_db, config, sink, env=env) as n:
        result = n.send(Message(title="x"))
        [row] = n.store.query()
    assert sink.requests == []
    assert result.deliveries[0].status == "skipped"
    assert reason in result.deliveries[0].reason
    assert (row.status, row.last_error) == ("skipped", result.deliveries[0].reason)


def test_auto_disable_after_consecutive_failures(store_db):
    sink = Sink(*([404] * 5))
    config = {
        "notify": {"auto_disable_after": 3},
        "channels": {"a": {"provider": "webhook", "url": "http://sink/a"}},
    }
    with notifier(store_db, config, sink) as n:
        statuses = [n.send(Message(title=f"{i}")).deliveries[0].status for i in range(5)]
        state = n.store.channel_state("a")
    assert statuses == ["failed", "failed", "failed", "skipped", "skipped"]
    assert len(sink.requests) == 3
    assert state.auto_disabled
    assert "3 consecutive failures; last: HTTP 404" in (state.disabled_reason or "")


def test_channels_built_in_code(tmp_path):
    sink = Sink()
    ch = Channel(
        name="code", provider="webhook", url="http://sink/code", retry=RetryPolicy(attempts=1)
    )
    with Notifier(
        channels=[ch],
        db=tmp_path / "n.db",
        providers=PROVIDERS,
        transport=httpx.MockTransport(sink),
        env={},
    ) as n:
        assert n.send(Message(title="hi")).ok
    assert sink.paths() == ["/code"]


@pytest.mark.anyio
async def test_async_twins(tmp_path):
    sink = Sink()
    async with notifier(tmp_path, CONFIG, sink) as n:
        result = await n.aemit("training.complete", {"experiment": "x", "accuracy": 1})
        with pytest.raises(RuntimeError, match="await asend"):
            n.send(Message(title="inside a loop"))
    assert result.ok and sink.paths() == ["/ml"]


def test_unknown_channel_is_a_config_error(tmp_path):
    with notifier(tmp_path, CONFIG) as n, pytest.raises(ConfigError, match="unknown channel"):
        n.send(Message(title="x"), to=["nope"])


def test_wait_zero_only_queues_and_the_worker_delivers(store_db):
    import asyncio

    sink = Sink()
    with notifier(store_db, CONFIG, sink) as n:
        result = n.send(Message(title="later", event="training.x"), wait=0)
        assert [d.status for d in result.deliveries] == ["pending"]
        assert sink.requests == []
        totals = asyncio.run(n.run_worker(once=True))
        [row] = n.store.query()
    assert totals["delivered"] == 1
    assert row.status == "delivered"
    assert sink.paths() == ["/ml"]


#: one webhook channel paced far above what a test sends
FAST_ONE = {
    "channels": {
        "a": {
            "provider": "webhook",
            "url": "http://sink/a",
            "rate": {"per_second": 10000, "burst": 1000},
        }
    }
}


def run_together(*work) -> None:
    """Each function on a thread of its own, all started before any is joined."""
    import threading

    threads = [threading.Thread(target=w) for w in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_queueing_alone_starts_no_event_loop(store_db):
    """``wait=0`` stores the rows on the calling thread: no loop, no HTTP clients."""
    with notifier(store_db, CONFIG) as n:
        queued = n.send(Message(title="later", event="training.x"), wait=0)
        emitted = n.emit("training.done", {"title": "t"}, wait=0)
        assert n.pipeline.bridge.thread is None
        assert n.pipeline._runtime is None
        rows = n.store.query()
    assert [d.reason for d in (*queued.deliveries, *emitted.deliveries)] == ["queued"] * 2
    assert sorted(r.status for r in rows) == ["pending", "pending"]


def test_queueing_and_sending_threads_share_one_notifier(store_db):
    """Once one thread's send started the loop, queueing goes through it: nothing lost."""

    sink = Sink()
    with notifier(store_db, FAST_ONE, sink) as n:

        def queue() -> None:
            for i in range(25):
                n.send(Message(title=f"q{i}"), wait=0)

        def deliver() -> None:
            for i in range(10):
                assert n.send(Message(title=f"d{i}")).ok

        run_together(queue, queue, queue, deliver, deliver)
        stored = n.store.counts()
    assert stored == {"pending": 75, "delivered": 20}
    assert len(sink.requests) == 20


def test_queueing_inside_an_event_loop_is_refused_as_sending_is(tmp_path):
    import asyncio

    async def inside() -> None:
        with notifier(tmp_path, CONFIG) as n:
            with pytest.raises(RuntimeError, match="await asend"):
                n.send(Message(title="x", event="training.x"), wait=0)
            assert n.store.counts() == {}

    asyncio.run(inside())


def test_threads_can_share_one_notifier(store_db):

    sink = Sink()
    results: list[bool] = []
    with notifier(store_db, FAST_ONE, sink) as n:

        def work() -> None:
            for i in range(10):
                results.append(n.send(Message(title=f"t{i}")).ok)

        run_together(work, work, work, work)
        stored = n.store.counts()
    assert results == [True] * 40
    assert stored == {"delivered": 40}
    assert len(sink.requests) == 40


def test_worker_reports_a_delivery_it_could_not_record(tmp_path, caplog):
    import asyncio
    import sqlite3

    sink = Sink()
    with notifier(tmp_path, CONFIG, sink) as n:
        n.send(Message(title="later", event="training.x"), wait=0)
        # a real store failure when the attempt is recorded (as a full disk would be)
        con = sqlite3.connect(n.db_path)
        con.execute(
            "CREATE TRIGGER full BEFORE UPDATE OF attempts ON deliveries"
            " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
        con.commit()
        con.close()
        with caplog.at_level("WARNING", logger="notify"):
            totals = asyncio.run(n.run_worker(once=True))
        [row] = n.store.query()
    assert totals["errors"] == 1
    assert "disk full" in caplog.text
    assert f"delivery {row.id}" in caplog.text
    assert row.status == "sending"  # still leased: it comes back when the lease ends
