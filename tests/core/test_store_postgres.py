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
from notify_core.testing import Answer, FakeClock, PostgresServer, query, run_notify
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


def test_the_schema_is_versioned_like_sqlites_and_has_its_tables_and_columns(
    postgres_url, tmp_path
):
    open_store(postgres_url).close()
    assert SCHEMA_VERSION == SQLITE_SCHEMA_VERSION  # one numbering of migrations
    assert query(postgres_url, "SELECT version FROM schema_version") == [
        {"version": SCHEMA_VERSION}
    ]
    found = query(
        postgres_url,
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()",
    )
    pg: dict[str, set[str]] = {}
    for r in found:
        pg.setdefault(str(r["table_name"]), set()).add(str(r["column_name"]))
    open_store(tmp_path / "s.db").close()
    lite: dict[str, set[str]] = {}
    for table in query(tmp_path / "s.db", "SELECT name FROM sqlite_master WHERE type = 'table'"):
        name = str(table["name"])
        if name != "sqlite_sequence":
            lite[name] = {
                str(c["name"]) for c in query(tmp_path / "s.db", f"PRAGMA table_info({name})")
            }
    # PostgreSQL's own: the migrations' record, and the arrival order SQLite's rowid gives
    assert pg.pop("schema_version") == {"version"}
    assert pg["deliveries"] - lite["deliveries"] == {"arrival"}
    assert pg["group_items"] - lite["group_items"] == {"arrival"}
    pg["deliveries"].discard("arrival")
    pg["group_items"].discard("arrival")
    assert pg == lite


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


def test_a_database_of_the_previous_schema_is_migrated_and_keeps_its_rows(postgres_url):
    """A store made before threads, groups and stored channels (schema 3) moves forward:
    its rows keep their order (``arrival``), and every newer feature works on it."""
    from notify_core._store._pg_schema import MIGRATIONS

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for version in (1, 2, 3):
            for statement in MIGRATIONS[version].split(";"):
                conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (3)")
        for ident in ("old1", "old2"):
            conn.execute(
                "INSERT INTO deliveries (id, message_id, created, updated, channel, provider,"
                " message, status) VALUES (%s, 'm', 1, 1, 'chat', 'x', '{}', 'pending')",
                (ident,),
            )
    store = open_store(postgres_url)
    try:
        assert store.ready() is None
        assert [r.thread_key for r in store.query(limit=None)] == [None, None]
        assert [
            r["id"] for r in query(postgres_url, "SELECT id FROM deliveries ORDER BY arrival")
        ] == [
            "old1",
            "old2",
        ]
        store.add([delivery(id="new", thread_key="k", channel="chat")])
        assert store.enter_thread("new", "chat", None, "k").step == "start"
        assert store.stored_revision() == 0 and store.groups() == []
        assert store.idempotency_claim("key", "fp", stale_after=60) is None
    finally:
        store.close()
    assert query(postgres_url, "SELECT version FROM schema_version") == [
        {"version": SCHEMA_VERSION}
    ]


def _wait_for_a_lock_wait(url: str) -> None:
    """Until a session of this database waits for a lock (a bounded poll, not a timing)."""
    deadline = time.monotonic() + 30
    while not query(
        url,
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock'",
    ):
        assert time.monotonic() < deadline, "nobody ever waited for the lock"
        time.sleep(0.01)


def test_two_hosts_never_both_start_a_thread_that_has_no_row_yet(postgres_url):
    """b starts the thread in a transaction still open, so its threads row is not committed;
    a, accepted earlier but stored late, asks meanwhile on another connection. It must wait
    for b's decision and then for b; without the thread's lock it would see no row and no
    one ahead of it, and start a second thread."""
    clock = FakeClock()
    first, second = open_store(postgres_url, clock=clock), open_store(postgres_url, clock=clock)
    clock.advance(1)
    first.add([delivery(id="b", thread_key="k", channel="chat")])
    turns = []
    try:
        with first.transaction():
            assert first.enter_thread("b", "chat", None, "k").step == "start"
            clock.offset = 0.5  # a was accepted before b
            second.add([delivery(id="a", thread_key="k", channel="chat")])
            asking = threading.Thread(
                target=lambda: turns.append(second.enter_thread("a", "chat", None, "k"))
            )
            asking.start()
            _wait_for_a_lock_wait(postgres_url)
        asking.join(timeout=30)
        [turn] = turns
        assert (turn.step, turn.holder) == ("wait", "b")
    finally:
        first.close()
        second.close()


def test_a_group_being_added_to_is_skipped_by_a_claim_not_waited_for(postgres_url):
    """An addition holds the group's row until it commits: a worker's claim meanwhile skips
    the group (``SKIP LOCKED``) instead of waiting, and takes it once the addition is in."""
    from notify_core._store import NewGroup, NewGroupItem

    clock = FakeClock()
    adder, worker = open_store(postgres_url, clock=clock), open_store(postgres_url, clock=clock)
    group = NewGroup(
        id="g", kind="group", channel="ops", tenant=None, provider="webhook", key="ops{}",
        labels="{}",
    )  # fmt: skip
    item = NewGroupItem(
        group_id="g", dedup_key="a", delivery_id="d1", message_id="m", severity="info",
        state="firing", message="{}",
    )  # fmt: skip
    adder.upsert_group(group)
    adder.set_group_due("g", clock.time())
    claims = []
    try:
        with adder.transaction():
            adder.upsert_group(group)  # a second message for the group, not committed yet
            adder.put_group_item(item, changed=True)
            claiming = threading.Thread(
                target=lambda: claims.append(worker.claim_groups("w", limit=5, lease=10))
            )
            claiming.start()
            claiming.join(timeout=30)
            assert claims == [[]]
        [claimed] = worker.claim_groups("w", limit=5, lease=10)
        assert claimed.id == "g" and [i.dedup_key for i in worker.group_items("g")] == ["a"]
    finally:
        adder.close()
        worker.close()


def test_readiness_says_when_the_schema_moved_on_without_the_password(
    postgres_server, postgres_url
):
    store = open_store(postgres_url)
    try:
        assert store.ready() is None
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("UPDATE schema_version SET version = version + 1")
        problem = store.ready()
        assert problem is not None
        assert f"has schema {SCHEMA_VERSION + 1}, this notify needs {SCHEMA_VERSION}" in problem
        assert ":***@" in problem and postgres_server.password not in problem
    finally:
        store.close()


def test_the_password_is_masked_by_its_place_not_wherever_its_text_occurs(postgres_server):
    """A password whose text is part of the database's name: the name is shown as written
    (``/postgres``, not ``/****gres``), the password nowhere, in the store's location, its
    errors, the notifier's ``db_location`` and the kit's ``masked_url``."""
    from notify_core import Notifier
    from notify_core._limits_redis import masked_url

    password, dbname = "post", "post_masking_db"
    port = postgres_server.port
    assert masked_url(f"postgresql://notify:{password}@127.0.0.1:{port}/postgres") == (
        f"postgresql://notify:***@127.0.0.1:{port}/postgres"
    )
    with psycopg.connect(postgres_server.admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE masking LOGIN PASSWORD '{password}'")
        admin.execute(f"CREATE DATABASE {dbname} OWNER masking")
    url = f"postgresql://masking:{password}@127.0.0.1:{port}/{dbname}"
    shown = f"postgresql://masking:***@127.0.0.1:{port}/{dbname}"
    try:
        store = open_store(url)
        assert store.location == shown and repr(store) == f"<PostgresStore {shown}>"
        store.close()
        with Notifier([], db=url, env={}) as notifier:
            assert notifier.db_location == shown
        assert Notifier([], db=url, env={}).db_location == shown  # before opening the store
        with pytest.raises(StoreError) as refused:
            open_store(url.replace(f":{password}@", ":wrong@"))
        assert str(refused.value).startswith(
            f"cannot open database postgresql://masking:***@127.0.0.1:{port}/{dbname}: "
        )
        server = PostgresServer(password="postgres-pw")
        server.port = port
        assert server.masked_url == f"postgresql://notify:***@127.0.0.1:{port}/notify"
    finally:
        with psycopg.connect(postgres_server.admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
            admin.execute("DROP ROLE IF EXISTS masking")
