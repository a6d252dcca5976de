"""notify on Celery, end to end: real workers, real beat, a real Redis broker and limiter.

One fleet serves the module: two prefork workers (``-c 2``) and beat, on one SQLite store.
The host application's side is a :class:`~notify_core.Notifier` in this process with
``executor = "celery"``; the CLI runs in subprocesses.
"""

from __future__ import annotations

import collections
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from notify_core import Message
from notify_core.testing import Answer, RecordingServer, RedisServer, query, run_notify

from .conftest import Fleet, wait_until

CHANNELS = """
[channels.sink]
provider = "webhook"
url = "{rec}/sink"
events = ["job.*", "quiet.*"]
timeout = 1
rate = {{ per_second = 100000, burst = 1000 }}
retry = {{ attempts = 4, backoff = 0.05, max_delay = 5 }}

[channels.flaky]
provider = "webhook"
url = "{rec}/flaky"
timeout = 1
retry = {{ attempts = 4, backoff = 0.05, max_delay = 5 }}

[channels.gone]
provider = "webhook"
url = "{rec}/gone"
timeout = 1

[channels.strict]
provider = "webhook"
url = "{strict}/strict"
timeout = 1
rate = {{ per_second = 9, burst = 1 }}

[channels.slow]
provider = "webhook"
url = "{strict}/slow"
timeout = 1
rate = {{ per_second = 2, burst = 1 }}
"""


@pytest.fixture(scope="module")
def rec() -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


@pytest.fixture(scope="module")
def strict() -> Iterator[RecordingServer]:
    """A provider enforcing 10 requests per second per path: the 11th in a second is a 429."""
    with RecordingServer() as server:
        server.limit_per_second = 10
        yield server


@pytest.fixture(scope="module")
def fleet(
    module_dir: Path, redis_server: RedisServer, rec: RecordingServer, strict: RecordingServer
) -> Iterator[Fleet]:
    fleet = Fleet(
        module_dir,
        redis_server,
        CHANNELS.format(rec=rec.url, strict=strict.url),
        max_pace_wait="0.3s",
        sweep_after="1s",
    )
    try:
        fleet.start(workers=2)
        yield fleet
    finally:
        fleet.stop()


def keys(server: RecordingServer, ids: list[str]) -> list[str]:
    wanted = set(ids)
    return [k for r in server.requests if (k := r.header("Idempotency-Key")) in wanted]


def test_emit_returns_queued_and_a_worker_delivers(fleet, rec):
    with fleet.notifier() as n:
        result = n.emit("job.done", {"job": "nightly"}, to=["sink"])
    [delivery] = result.deliveries
    assert (delivery.status, delivery.reason, delivery.attempts) == ("pending", "queued", 0)
    [row] = fleet.wait_settled([delivery.id])
    assert (row["status"], row["attempts"], row["lease_owner"]) == ("delivered", 1, None)
    assert keys(rec, [delivery.id]) == [delivery.id]  # sent once, under its delivery id


def test_a_retry_after_is_a_countdown_and_the_row_waits_pending(fleet, rec):
    rec.script(Answer(503, "busy", headers={"Retry-After": "1"}), path="/flaky")
    with fleet.notifier() as n:
        [delivery] = n.send(Message(title="flaky"), to=["flaky"]).deliveries

    def waiting() -> dict | None:
        rows = fleet.rows([delivery.id])
        return rows[0] if rows and rows[0]["attempts"] == 1 else None

    row = wait_until(waiting, what="the first attempt")
    first = query(fleet.db, "SELECT started FROM attempts WHERE delivery_id = ?", delivery.id)
    # between attempts nobody holds it: pending, due at the provider's time
    assert (row["status"], row["lease_owner"]) == ("pending", None)
    assert row["next_attempt"] >= first[0]["started"] + 1
    [row] = fleet.wait_settled([delivery.id])
    assert (row["status"], row["attempts"]) == ("delivered", 2)
    arrivals = [r.received for r in rec.to("/flaky") if r.header("Idempotency-Key") == delivery.id]
    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 0.95  # not before Retry-After


def test_duplicate_tasks_for_one_delivery_send_it_once(fleet, rec):
    with fleet.notifier() as n:
        [delivery] = n.send(Message(title="once"), to=["sink"]).deliveries
        app = n.executor.app
        tasks = [
            app.send_task("notify.deliver", args=(delivery.id,), queue=fleet.queue).id
            for _ in range(5)
        ]
    wait_until(
        lambda: all(f"notify.deliver[{t}] succeeded" in fleet.logs() for t in tasks),
        what="the duplicate tasks to run",
    )
    fleet.wait_settled([delivery.id])
    assert keys(rec, [delivery.id]) == [delivery.id]
    assert len(query(fleet.db, "SELECT * FROM attempts WHERE delivery_id = ?", delivery.id)) == 1


def test_the_sweep_publishes_what_no_task_carries(fleet, rec):
    # stored pending and handed to nobody: what a lost broker message leaves behind
    with fleet.notifier(executor="local") as n:
        ids = [d.id for d in n.send(Message(title="lost"), to=["sink"], wait=0).deliveries]
    rows = fleet.wait_settled(ids)
    assert [(r["status"], r["attempts"]) for r in rows] == [("delivered", 1)]
    assert keys(rec, ids) == ids


def test_two_workers_share_one_pace_through_redis(fleet, strict):
    with fleet.notifier() as n:
        ids = [
            d.id
            for i in range(30)
            for d in n.send(Message(title=f"s{i}"), to=["strict"]).deliveries
        ]
    rows = fleet.wait_settled(ids)
    assert [r["status"] for r in rows] == ["delivered"] * 30
    assert [r["attempts"] for r in rows] == [1] * 30  # nothing was answered 429
    assert strict.rejected == 0
    logs = [w.text() for w in fleet.workers]
    assert all(any(f"delivery {i}: delivered" in log for i in ids) for log in logs), (
        "both workers took part"
    )


def test_a_far_slot_frees_the_worker_and_keeps_the_pace(fleet, strict):
    with fleet.notifier() as n:
        ids = [
            d.id for i in range(5) for d in n.send(Message(title=f"p{i}"), to=["slow"]).deliveries
        ]
    rows = fleet.wait_settled(ids)
    assert [(r["status"], r["attempts"]) for r in rows] == [("delivered", 1)] * 5
    arrivals = sorted(r.received for r in strict.to("/slow"))
    assert arrivals[-1] - arrivals[0] >= 4 / 2 * 0.75  # 2 per second, across both workers
    assert any(f"delivery {i}: paced" in fleet.logs() for i in ids)


def test_notify_retry_publishes_a_task(fleet, rec):
    rec.script(Answer(400, "bad payload"), path="/gone")
    with fleet.notifier() as n:
        [delivery] = n.send(Message(title="fix me"), to=["gone"]).deliveries
    [row] = fleet.wait_settled([delivery.id])
    assert (row["status"], row["attempts"]) == ("failed", 1)
    disabled = run_notify("disable", "gone", cwd=fleet.directory, env=fleet.env)
    assert disabled.returncode == 0, disabled.stderr
    try:
        # asked for by name: it goes out even to the disabled channel, as without Celery
        out = run_notify("retry", delivery.id, cwd=fleet.directory, env=fleet.env)
        assert out.returncode == 0, out.stderr
        assert "gone  attempt 1  queued" in out.stdout
        assert "retrying anyway" in out.stderr
        [row] = fleet.wait_settled([delivery.id])
    finally:
        run_notify("enable", "gone", cwd=fleet.directory, env=fleet.env)
    assert (row["status"], row["attempts"]) == ("delivered", 2)
    assert keys(rec, [delivery.id]) == [delivery.id, delivery.id]  # one id, both attempts


def test_log_channels_and_silences_work_the_same(fleet, rec):
    def cli(*args: str) -> str:
        out = run_notify(*args, cwd=fleet.directory, env=fleet.env)
        assert out.returncode == 0, out.stderr
        return out.stdout

    cli("silence", "--event", "quiet.*", "--for", "1h", "--reason", "maintenance")
    with fleet.notifier() as n:
        [quiet] = n.emit("quiet.tick", {}, to=["sink"]).deliveries
        [loud] = n.emit("job.tick", {}, to=["sink"]).deliveries
    assert quiet.status == "skipped"
    assert "maintenance" in quiet.reason
    fleet.wait_settled([loud.id])
    logged = {d["id"]: d["status"] for d in json.loads(cli("log", "--json", "--limit", "500"))}
    assert (logged[quiet.id], logged[loud.id]) == ("skipped", "delivered")
    assert "sink" in cli("channels")
    assert keys(rec, [quiet.id, loud.id]) == [loud.id]


def test_the_application_s_own_celery_app_runs_the_tasks(module_dir, redis_server, monkeypatch):
    """``[celery] app = "hostapp:app"``: publish through, and run on, the host's app."""
    directory = module_dir / "host"
    directory.mkdir()
    with RecordingServer() as server:
        fleet = Fleet(
            directory,
            redis_server,
            f'[channels.ops]\nprovider = "webhook"\nurl = "{server.url}/ops"\n',
            queue="host-notify",
        )
        text = fleet.config.read_text().replace(f'broker = "{fleet.broker}"', 'app = "hostapp:app"')
        fleet.config.write_text(text)
        (directory / "hostapp.py").write_text(
            textwrap.dedent(f"""
                from celery import Celery
                import notify_celery

                app = Celery("host", broker="{fleet.broker}")
                app.conf.worker_prefetch_multiplier = 1
                notify_celery.setup(app)
            """)
        )
        monkeypatch.syspath_prepend(str(directory))
        monkeypatch.setenv("NOTIFY_CONFIG", str(fleet.config))
        try:
            fleet.worker(app="hostapp", pool="threads", concurrency=1)
            with fleet.notifier() as n:
                ids = [d.id for d in n.send(Message(title="via the host app")).deliveries]
            fleet.wait_settled(ids)
        finally:
            fleet.stop()
    assert [r.header("Idempotency-Key") for r in server.requests] == ids
    assert collections.Counter(r["status"] for r in fleet.rows()) == {"delivered": 1}
