"""Thread metadata in the store, provider-neutral: the ``thread_key`` hook, ``Outcome.thread``,
the hold before a thread's first message, and payloads rebuilt when an attempt starts.

A toy provider stands in for any service that returns an id to thread under: it posts
JSON to the recorder, answers' ``id`` become the thread's metadata, and a reply's
payload names its parent.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping
from typing import Any

import attrs

from notify_core import Channel, Message, Notifier, Providers
from notify_core._store import NewDelivery, new_id, open_store
from notify_core._store._sql_base import SQLITE
from notify_core._store._sqlite_schema import MIGRATIONS
from notify_core._store._threads import ahead_query
from notify_core.plugin import Outcome, Payload, ProviderSpec, Target, hookimpl, read_json
from notify_core.testing import Answer, FakeClock, RecordingServer, query


class Threaded:
    """A provider that threads by ``Message.thread_id`` and remembers the answer's id."""

    @hookimpl
    def register_providers(self) -> list[ProviderSpec]:
        return [ProviderSpec(name="threaded", url_patterns=[r"https://threads\.example/"])]

    @hookimpl
    def validate_url(self, channel: Channel) -> Target | None:
        return Target(url=channel.url or "")

    @hookimpl
    def thread_key(self, message: Message) -> str | None:
        return message.thread_id

    @hookimpl
    def build_payload(self, message: Message, thread: Mapping[str, Any] | None) -> Payload:
        return Payload(body={"text": message.title, "parent": (thread or {}).get("id")})

    @hookimpl
    def classify_response(self, response: Any) -> Outcome:
        if response.status_code >= 500:
            return Outcome.retry("busy", http_status=response.status_code)
        if response.status_code >= 400:
            return Outcome.failed("refused", http_status=response.status_code)
        data = read_json(response)
        done = data.get("done") is True
        return Outcome.delivered(thread={"id": data.get("id")}, end_thread=done)


def notifier(tmp_path: Any, server: RecordingServer, **kw: Any) -> Notifier:
    providers = Providers()
    providers.register(Threaded(), name="threaded")
    channel = Channel(name="chat", provider="threaded", url="https://threads.example/post")
    return Notifier(
        [channel],
        providers=providers,
        db=tmp_path / "n.db",
        reroute={"https://threads.example": server.url},
        env={},
        **kw,
    )


def ok(ident: str, **extra: Any) -> Answer:
    import json

    return Answer(200, json.dumps({"id": ident, **extra}))


def test_later_messages_are_built_with_what_the_first_one_returned(recorder, tmp_path) -> None:
    recorder.script(ok("p-1"), ok("r-1"), ok("r-2"))
    with notifier(tmp_path, recorder) as n:
        for title in ("start", "progress", "end"):
            assert n.send(Message(title=title, thread_id="run-7")).ok
        other = n.send(Message(title="elsewhere", thread_id="run-8"))
        assert other.ok
    bodies = [r.json() for r in recorder.requests]
    assert bodies == [
        {"text": "start", "parent": None},
        {"text": "progress", "parent": "p-1"},
        {"text": "end", "parent": "p-1"},
        {"text": "elsewhere", "parent": None},
    ]
    threads = query(tmp_path / "n.db", "SELECT channel, key, data FROM threads ORDER BY key")
    # the first one wins: replies' ids never replace the thread's
    assert threads[0] == {"channel": "chat", "key": "run-7", "data": '{"id": "p-1"}'}
    rows = query(tmp_path / "n.db", "SELECT thread_key FROM deliveries ORDER BY created, id")
    assert [r["thread_key"] for r in rows] == ["run-7", "run-7", "run-7", "run-8"]


def test_messages_without_a_key_are_not_threaded(recorder, tmp_path) -> None:
    with notifier(tmp_path, recorder) as n:
        assert n.send(Message(title="a")).ok
        assert n.send(Message(title="b")).ok
    assert [r.json()["parent"] for r in recorder.requests] == [None, None]
    assert query(tmp_path / "n.db", "SELECT * FROM threads") == []


def test_end_thread_forgets_the_key(recorder, tmp_path) -> None:
    recorder.script(ok("p-1"), ok("r-1", done=True), ok("p-2"))
    with notifier(tmp_path, recorder) as n:
        for title in ("start", "resolved", "start again"):
            assert n.send(Message(title=title, thread_id="incident-1")).ok
    assert [r.json()["parent"] for r in recorder.requests] == [None, "p-1", None]


def test_a_follow_up_waits_while_the_first_message_is_retried(recorder, tmp_path) -> None:
    """The first message is retried (503, then 200): the follow-up is held, not attempted,
    and goes out as a reply once the first is delivered."""
    clock = FakeClock()
    recorder.script(Answer(503, "busy"), ok("p-1"), ok("r-1"))

    async def run() -> tuple[Any, Any]:
        async with notifier(tmp_path, recorder, clock=clock) as n:
            return await asyncio.gather(
                n.asend(Message(title="first", thread_id="t"), wait=60),
                n.asend(Message(title="second", thread_id="t"), wait=60),
            )

    first, second = asyncio.run(run())
    assert first.ok and second.ok
    assert [r.json() for r in recorder.requests] == [
        {"text": "first", "parent": None},
        {"text": "first", "parent": None},
        {"text": "second", "parent": "p-1"},
    ]
    assert first.deliveries[0].attempts == 2
    assert second.deliveries[0].attempts == 1  # the hold counted no attempt


def test_the_messages_of_a_thread_go_in_order_even_when_one_is_retried(recorder, tmp_path) -> None:
    """b is accepted after a; a's first attempt fails (503): b waits for a's retry rather
    than overtaking it, so the thread reads a, b."""
    clock = FakeClock()
    recorder.script(ok("p-1"), Answer(503, "busy"), ok("r-a"), ok("r-b"))

    async def run() -> list[Any]:
        async with notifier(tmp_path, recorder, clock=clock) as n:
            assert (await n.asend(Message(title="start", thread_id="t"), wait=60)).ok
            return list(
                await asyncio.gather(
                    *(n.asend(Message(title=t, thread_id="t"), wait=60) for t in "ab")
                )
            )

    a, b = asyncio.run(run())
    assert a.ok and b.ok
    assert [r.json()["text"] for r in recorder.requests] == ["start", "a", "a", "b"]
    assert (a.deliveries[0].attempts, b.deliveries[0].attempts) == (2, 1)


def test_a_worker_sends_a_thread_it_claimed_at_once_in_order(recorder, tmp_path) -> None:
    """The three are claimed in one batch: the later ones wait in the worker for the
    earlier ones to end (no polling), and ``--once`` waits for them all."""
    recorder.script(ok("p-1"), ok("r-1"), ok("r-2"))
    with notifier(tmp_path, recorder) as n:
        for title in ("start", "progress", "end"):
            n.send(Message(title=title, thread_id="t"), wait=0)  # queued only
        totals = asyncio.run(n.run_worker(once=True, poll=0.05))
    assert totals["delivered"] == 3
    assert [r.json() for r in recorder.requests] == [
        {"text": "start", "parent": None},
        {"text": "progress", "parent": "p-1"},
        {"text": "end", "parent": "p-1"},
    ]


def test_when_the_first_message_fails_the_next_one_starts_the_thread(recorder, tmp_path) -> None:
    clock = FakeClock()
    recorder.script(Answer(400, "no"), ok("p-2"), ok("r-1"))

    async def run() -> list[Any]:
        async with notifier(tmp_path, recorder, clock=clock) as n:
            return list(
                await asyncio.gather(
                    *(n.asend(Message(title=t, thread_id="t"), wait=60) for t in "abc")
                )
            )

    a, b, c = asyncio.run(run())
    assert [r.deliveries[0].status for r in (a, b, c)] == ["failed", "delivered", "delivered"]
    assert [r.json() for r in recorder.requests] == [
        {"text": "a", "parent": None},
        {"text": "b", "parent": None},
        {"text": "c", "parent": "p-2"},
    ]


def test_a_held_delivery_past_the_deadline_is_left_for_a_worker(recorder, tmp_path) -> None:
    """A process whose wait ends while the thread's first message is still open leaves
    the follow-up pending (no attempt spent); a worker sends it into the thread later."""
    clock = FakeClock()
    store = open_store(tmp_path / "n.db", clock=clock)
    first = _row("first-1", thread_key="t", status="sending")  # another process sends it
    store.add([first], owner="elsewhere", lease=600)
    store.close()
    clock.advance(1)
    with notifier(tmp_path, recorder, clock=clock) as n:
        result = n.send(Message(title="second", thread_id="t"), wait=2)
        [held] = result.deliveries
        assert (held.status, held.attempts) == ("pending", 0)
        assert held.reason == "waiting for an earlier message of its thread (first-1)"
        assert recorder.requests == []
        assert clock.slept == [0.25] * 8  # it asked again, without a request, until its wait ended
        n.store.record_attempt(_attempt("first-1"), status="delivered", owner="elsewhere")
        n.store.keep_thread("chat", None, "t", {"id": "p-1"})
        clock.advance(1)
        totals = asyncio.run(n.run_worker(once=True, poll=0.05))
    assert totals["delivered"] == 1
    assert [r.json() for r in recorder.requests] == [{"text": "second", "parent": "p-1"}]


# -- the store's side, directly ---------------------------------------------------------


def _row(ident: str, *, thread_key: str | None, status: str = "pending", **kw: Any) -> NewDelivery:
    base: dict[str, Any] = dict(
        id=ident, message_id="m", event="e", severity="info", tenant=None, channel="chat",
        provider="threaded", target="x", message="{}", payload="{}", status=status,
        thread_key=thread_key,
    )  # fmt: skip
    base.update(kw)
    return NewDelivery(**base)


def _attempt(ident: str) -> Any:
    from notify_core._store import AttemptRow

    return AttemptRow(
        delivery_id=ident, number=1, started=0.0, duration=0.0, http_status=200,
        outcome="delivered", error=None, response=None,
    )  # fmt: skip


def test_enter_thread_start_join_wait_and_take_over(store_db) -> None:
    clock = FakeClock()
    store = open_store(store_db, clock=clock)
    store.add([_row("a", thread_key="k")])
    clock.advance(1)
    store.add([_row("b", thread_key="k"), _row("x", thread_key="other")])
    # b was accepted after a, which is still open: b waits, a starts
    assert store.enter_thread("b", "chat", None, "k").step == "wait"
    assert store.enter_thread("a", "chat", None, "k").step == "start"
    assert store.enter_thread("a", "chat", None, "k").step == "start"  # asking again is fine
    turn = store.enter_thread("b", "chat", None, "k")
    assert (turn.step, turn.holder) == ("wait", "a")
    assert store.enter_thread("x", "chat", None, "other").step == "start"
    # the tenant's threads are its own
    assert store.enter_thread("b", "chat", "acme", "k").step == "start"
    # a fails: b takes over and starts the thread itself
    store.finish("a", status="failed", reason="no")
    assert store.enter_thread("b", "chat", None, "k").step == "start"
    assert store.keep_thread("chat", None, "k", {"ts": "1"})
    assert not store.keep_thread("chat", None, "k", {"ts": "2"})  # the first one wins
    turn = store.enter_thread("b", "chat", None, "k")
    assert (turn.step, turn.data) == ("join", {"ts": "1"})
    assert store.thread("chat", None, "k") == {"ts": "1"}
    # one at a time, in order: c waits for b (open, retried at 5) even though the thread exists
    clock.advance(1)
    store.add([_row("c", thread_key="k")])
    store.postpone("b", "nobody", until=0, reason="")  # not b's owner: nothing changes
    with store.transaction() as db:
        db.execute("UPDATE deliveries SET next_attempt = 5000000000 WHERE id = 'b'")
    turn = store.enter_thread("c", "chat", None, "k")
    assert (turn.step, turn.holder, turn.until) == ("wait", "b", 5000000000)
    store.finish("b", status="delivered", reason="ok")
    assert store.enter_thread("c", "chat", None, "k").step == "join"
    store.end_thread("chat", None, "k")
    assert store.thread("chat", None, "k") is None
    store.close()


def test_a_starter_wins_over_an_earlier_delivery_that_reached_the_store_late(store_db) -> None:
    """b checked before a's row was committed and started the thread: a, though accepted
    first, now waits for b; never two starts."""
    clock = FakeClock()
    store = open_store(store_db, clock=clock)
    clock.advance(1)
    store.add([_row("b", thread_key="k")])
    assert store.enter_thread("b", "chat", None, "k").step == "start"
    clock.offset = 0.5  # a's created time is earlier than b's
    store.add([_row("a", thread_key="k")])
    assert store.enter_thread("a", "chat", None, "k").step == "wait"
    assert store.enter_thread("b", "chat", None, "k").step == "start"
    store.close()


def test_postpone_gives_the_lease_back_without_an_attempt(store_db) -> None:
    clock = FakeClock()
    store = open_store(store_db, clock=clock)
    store.add([_row("a", thread_key="k", status="sending")], owner="me")
    assert not store.postpone("a", "someone else", until=clock.time() + 1, reason="wait")
    assert store.postpone("a", "me", until=clock.time() + 1, reason="waiting for x")
    row = store.get("a")
    assert row is not None
    assert (row.status, row.attempts, row.lease_owner, row.last_error) == (
        "pending", 0, None, "waiting for x",
    )  # fmt: skip
    assert store.claim("w", limit=10, lease=60) == []  # not due yet
    clock.advance(1)
    assert [r.id for r in store.claim("w", limit=10, lease=60)] == ["a"]
    store.close()


def test_prune_forgets_threads_not_used_since(store_db) -> None:
    clock = FakeClock()
    store = open_store(store_db, clock=clock)
    store.keep_thread("chat", None, "old", {"ts": "1"})
    clock.advance(100)
    store.keep_thread("chat", None, "new", {"ts": "2"})
    store.prune(clock.time() - 50)
    assert store.thread("chat", None, "old") is None
    assert store.thread("chat", None, "new") == {"ts": "2"}
    store.close()


def test_a_store_of_the_previous_schema_is_migrated(tmp_path) -> None:
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    for version in (1, 2):
        con.executescript(MIGRATIONS[version])
    con.execute("PRAGMA user_version = 2")
    con.execute(
        "INSERT INTO deliveries (id, message_id, created, updated, channel, provider, message,"
        " status) VALUES ('old', 'm', 0, 0, 'chat', 'threaded', '{}', 'delivered')"
    )
    con.commit()
    con.close()
    store = open_store(path)
    row = store.get("old")
    assert row is not None and row.thread_key is None
    store.add([_row(new_id(1.0), thread_key="k")])
    assert store.enter_thread("zzz", "chat", None, "k").step == "wait"
    store.close()


def test_the_hold_query_uses_the_thread_index(tmp_path) -> None:
    open_store(tmp_path / "s.db").close()
    con = sqlite3.connect(tmp_path / "s.db")
    plan = con.execute(
        f"EXPLAIN QUERY PLAN {ahead_query(SQLITE)}", ("chat", "k", None, "x", 1.0, 1.0, 5)
    ).fetchall()
    assert "deliveries_thread" in " ".join(str(p) for p in plan)


def test_outcome_thread_fields_default_to_nothing() -> None:
    outcome = Outcome.delivered()
    assert (outcome.thread, outcome.end_thread) == (None, False)
    assert attrs.evolve(outcome, thread={"ts": "1"}).thread == {"ts": "1"}
