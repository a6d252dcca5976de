"""send_many / emit_many: one store transaction for a batch, one result per message.

Real SQLite file, real HTTP server (the kit's RecordingServer): what is asserted is
the transaction (the statements SQLite ran), the rows, the requests and the results.
"""

from __future__ import annotations

import asyncio

import pytest

from notify_core import (
    Channel,
    Message,
    Notifier,
    NotifyError,
    Providers,
    Rate,
    RetryPolicy,
    parse_config,
)
from notify_core.testing import Answer, query

FAST = Rate(per_second=1000, burst=1000)


def traced(notifier: Notifier) -> list[str]:
    """The SQL statements the notifier's SQLite connection runs from now on."""
    statements: list[str] = []
    notifier.store._db.set_trace_callback(statements.append)  # the real connection
    return statements


def test_a_batch_is_stored_in_one_transaction(tmp_path, recorder):
    db = tmp_path / "bulk.db"
    hook = Channel(name="hook", provider="webhook", url=f"{recorder.url}/h", rate=FAST)
    with Notifier(channels=[hook], db=db, env={}) as notifier:
        notifier.send(Message(title="warm"), wait=0)  # opens the store, migrates it
        statements = traced(notifier)
        results = notifier.send_many([Message(title=f"m{i}") for i in range(50)], wait=0)
    assert len(results) == 50
    assert all(r.deliveries[0].status == "pending" for r in results)
    begins = [s for s in statements if s.startswith("BEGIN")]
    commits = [s for s in statements if s == "COMMIT"]
    assert len(begins) == len(commits) == 1, statements
    assert len(query(db, "SELECT id FROM deliveries WHERE status = 'pending'")) == 51
    assert len(recorder.requests) == 0  # wait=0: stored for a worker, nothing sent


def test_send_many_delivers_every_message_and_answers_in_order(tmp_path, recorder):
    db = tmp_path / "bulk.db"
    channels = [
        Channel(name="a", provider="webhook", url=f"{recorder.url}/a", rate=FAST),
        Channel(
            name="b",
            provider="webhook",
            url=f"{recorder.url}/b",
            rate=FAST,
            retry=RetryPolicy(backoff=0.01),
        ),
    ]
    recorder.script(Answer(500, "boom"), path="/b")  # one of b's deliveries retries once
    with Notifier(channels=channels, db=db, env={}) as notifier:
        messages = [Message(title=f"m{i}") for i in range(20)]
        results = notifier.send_many(messages, to=["a", "b"], wait=30)
    assert [[d.channel for d in r.deliveries] for r in results] == [["a", "b"]] * 20
    assert all(r.ok for r in results), [r.deliveries for r in results if not r.ok]
    assert len({r.message_id for r in results}) == 20
    titles = [
        query(db, "SELECT message FROM deliveries WHERE message_id = ?", r.message_id)
        for r in results
    ]
    assert all(f'"m{i}"' in rows[0]["message"] for i, rows in enumerate(titles))
    assert len(recorder.to("/a")) == 20
    assert len(recorder.to("/b")) == 21
    assert sum(d.attempts for r in results for d in r.deliveries) == 41


def test_an_unroutable_message_stores_nothing_of_the_batch(tmp_path, recorder):
    db = tmp_path / "bulk.db"
    hook = Channel(name="hook", provider="webhook", url=f"{recorder.url}/h", rate=FAST)
    with Notifier(channels=[hook], db=db, env={}) as notifier:
        notifier.send(Message(title="warm"), wait=0)
        batch = [Message(title="fine"), Message(title="also fine")]
        with pytest.raises(NotifyError, match="nosuch"):
            notifier.send_many(batch, to=["hook", "nosuch"], wait=5)
    assert len(query(db, "SELECT id FROM deliveries")) == 1  # the warm-up only
    assert recorder.requests == []


def test_emit_many_renders_each_event_and_a_bad_one_stops_the_batch(tmp_path, recorder):
    config = parse_config(
        {
            "channels": {
                "hook": {
                    "provider": "webhook",
                    "url": f"{recorder.url}/e",
                    "events": ["job.*"],
                    "rate": {"per_second": 1000, "burst": 1000},
                }
            },
            "events": {"job.done": {"title": "Job {name} done"}},
        },
        Providers.discover(),
        env={},
    )
    db = tmp_path / "bulk.db"
    with Notifier(config=config, db=db, env={}) as notifier:
        results = notifier.emit_many([("job.done", {"name": "a"}), ("job.done", {"name": "b"})])
        assert [r.ok for r in results] == [True, True]
        with pytest.raises(NotifyError):
            notifier.emit_many([("job.done", {"name": "c"}), ("job.done", {})])
    bodies = sorted(r.json()["title"] for r in recorder.requests)  # sent concurrently
    assert bodies == ["Job a done", "Job b done"]
    assert len(query(db, "SELECT id FROM deliveries")) == 2


def test_the_async_twin_and_an_empty_batch(tmp_path, recorder):
    hook = Channel(name="hook", provider="webhook", url=f"{recorder.url}/h", rate=FAST)

    async def main() -> list[int]:
        async with Notifier(channels=[hook], db=tmp_path / "a.db", env={}) as notifier:
            empty = await notifier.asend_many([])
            sent = await notifier.asend_many([Message(title="x"), Message(title="y")], wait=10)
        return [len(empty), sum(r.ok for r in sent)]

    assert asyncio.run(main()) == [0, 2]
    assert len(recorder.requests) == 2
