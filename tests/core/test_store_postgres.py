"""What only the PostgreSQL store has: its migrations, its errors, its wake-ups, its extra.

The store semantics both backends share are tested on both in ``test_store.py``.
"""

from __future__ import annotations

import asyncio
import fnmatch
import sys
import threading
import time

import psycopg
import pytest

from notify_core import StoreError, StoreUnavailable
from notify_core._store import NewDelivery, new_id, open_store
from notify_core._store._pg import SCHEMA_VERSION
from notify_core._store._sqlite import SCHEMA_VERSION as SQLITE_SCHEMA_VERSION
from notify_core.testing import Answer, PostgresServer, query, run_notify
from notify_core.testing._services import free_port


def delivery(**kw: object) -> NewDelivery:
    base: dict[str, object] = dict(
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
        status="pending",
    )
    base.update(kw)
    return NewDelivery(**base)  # type: ignore[arg-type]


def test_the_schema_is_versioned_like_sqlites(postgres_url):
    open_store(postgres_url).close()
    assert SCHEMA_VERSION == SQLITE_SCHEMA_VERSION  # one numbering of migrations
    assert query(postgres_url, "SELECT version FROM schema_version") == [
        {"version": SCHEMA_VERSION}
    ]
    tables = {
        r["table_name"]
        for r in query(
            postgres_url,
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema()",
        )
    }
    assert tables == {
        "deliveries", "attempts", "channel_state", "silences", "rate_limits", "schema_version"
    }  # fmt: skip


def test_workers_starting_together_migrate_once(postgres_url):
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            open_store(postgres_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert query(postgres_url, "SELECT COUNT(*) AS n FROM schema_version") == [{"n": 1}]


def test_a_newer_schema_is_refused(postgres_url):
    open_store(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_version SET version = version + 1")
    with pytest.raises(StoreError, match="newer than this notify"):
        open_store(postgres_url)


def test_location_and_errors_never_show_the_password(postgres_server, postgres_url):
    password = postgres_server.password
    store = open_store(postgres_url)
    assert password not in store.location and ":***@" in store.location
    assert password not in repr(store)
    store.close()
    wrong = postgres_url.replace(password, "not-the-password-at-all")
    with pytest.raises(StoreError) as refused:
        open_store(wrong)
    message = str(refused.value)
    assert "password authentication failed" in message
    assert "not-the-password-at-all" not in message and "\n" not in message
    nobody = f"postgresql://notify:{password}@127.0.0.1:{free_port()}/db"
    with pytest.raises(StoreError, match="cannot open database") as unreachable:
        open_store(nobody)
    assert password not in str(unreachable.value) and "\n" not in str(unreachable.value)


@pytest.mark.parametrize(
    "pattern",
    ["training.*", "*", "a?c", "[ab]x", "[!a]x", "a.c", "50%_off", "x\\y", "*.failed", "abc"],
)
def test_event_globs_match_as_sqlite_globs_do(postgres_url, pattern):
    events = ["training.done", "trainingXdone", "abc", "axc", "ax", "bx", "cx", "a.c"]
    events += ["50%_off", "500_off", "x\\y", "pipeline.failed", "failed"]
    store = open_store(postgres_url)
    store.add([delivery(event=e) for e in events])
    found = sorted(r.event for r in store.query(event=pattern, limit=None))
    store.close()
    assert found == sorted(e for e in events if fnmatch.fnmatchcase(e, pattern))


def test_accepting_pending_work_wakes_a_listening_worker(postgres_url):
    store = open_store(postgres_url)
    sender = open_store(postgres_url)

    async def scenario() -> tuple[bool, bool, bool]:
        wakeups = store.wakeups()
        assert wakeups is not None
        try:
            first = await wakeups.wait(5)  # connecting: "maybe something came meanwhile"
            idle = await wakeups.wait(0.2)  # nothing accepted: the poll interval passes
            await asyncio.to_thread(sender.add, [delivery()])
            woken = await wakeups.wait(10)
            return first, idle, woken
        finally:
            await wakeups.aclose()

    try:
        assert asyncio.run(scenario()) == (True, False, True)
    finally:
        store.close()
        sender.close()


def test_a_server_restart_costs_calls_until_it_is_back_then_nothing():
    """The pool's connections die with the server; the store reconnects by itself."""
    with PostgresServer() as server:  # its own: the session server serves other tests
        store = open_store(server.url)
        store.add([delivery(id="before")])
        server.stop()
        with pytest.raises(StoreUnavailable) as down:
            store.counts()
        assert server.password not in str(down.value)
        server.start()
        deadline = time.monotonic() + 30
        while True:  # each pooled connection that died fails once, then is replaced
            try:
                assert store.counts() == {"pending": 1}
                break
            except StoreUnavailable:
                assert time.monotonic() < deadline, "the store never reconnected"
                time.sleep(0.1)
        store.add([delivery(id="after")])
        assert {r.id for r in store.query()} == {"before", "after"}
        store.close()


def test_without_the_extra_the_error_says_which_to_install(tmp_path, postgres_url):
    """psycopg missing (hidden from this process): one line naming the extra, exit 2."""
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text("import sys\nsys.modules['psycopg'] = None\n")
    result = run_notify(
        "log", "--db", postgres_url, cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}
    )
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1
    assert 'pip install "notify-core[postgres]"' in result.stderr
    assert "Traceback" not in result.stderr
    assert sys.modules.get("psycopg") is not None  # this process was not touched


def test_no_secret_reaches_the_postgres_store(postgres_server, postgres_url):
    from notify_core import Channel, Message, Notifier
    from notify_core.testing import RecordingServer, stored_bytes

    token = "T0KEN0123456789abcdefSECRET"
    with RecordingServer() as sink:
        sink.script(Answer(500, f"no hook {token}"))  # a secret echoed back in an error
        url = f"{sink.url}/hooks/{token}"
        channel = Channel(name="sink", provider="webhook", url=url)
        with Notifier([channel], db=postgres_url, env={}) as notifier:
            assert notifier.send(Message(title="x", body="hello")).ok
    data = stored_bytes(postgres_url)
    assert b"hello" in data and b"rate_limits:" in data  # the dump holds every table
    assert token.encode() not in data
    assert postgres_server.password.encode() not in data
