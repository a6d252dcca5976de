"""Faults under the Celery executor: a worker SIGKILLed mid-run, Redis restarted mid-run.

Each test has its own fleet (the fault is what it is about), its own store, and, for the
restart, its own Redis. What must hold: every accepted delivery reaches the receiver
(the sweep and late acknowledgement recover what the fault cut), each under its own id,
and a duplicate only for an attempt that was on the wire when its worker died.
"""

from __future__ import annotations

import collections
import time

from notify_core import Message
from notify_core.testing import Answer, RecordingServer

from .conftest import Fleet

SINK = """
[channels.sink]
provider = "webhook"
url = "{url}/sink"
timeout = 1
rate = {{ per_second = 100000, burst = 1000 }}
retry = {{ attempts = 10, backoff = 0.1, max_delay = 1 }}
"""


def send(fleet: Fleet, count: int) -> list[str]:
    """``count`` sends; each returns once stored and handed over (or not: broker down)."""
    with fleet.notifier() as n:
        results = [
            d for i in range(count) for d in n.send(Message(title=f"m{i}"), to=["sink"]).deliveries
        ]
    assert {(d.status, d.reason) for d in results} == {("pending", "queued")}
    return [d.id for d in results]


def test_sigkill_a_worker_with_1000_in_flight_loses_nothing(redis_server, tmp_path):
    total, concurrency = 1000, 2
    with RecordingServer() as server:
        server.default = Answer(200, "ok", delay=0.002)
        fleet = Fleet(tmp_path, redis_server, SINK.format(url=server.url), lease="3s")
        try:
            ids = send(fleet, total)  # 1,000 rows stored, 1,000 tasks waiting in Redis
            fleet.beat()
            first = fleet.worker(concurrency=concurrency)
            server.wait_for(total // 4, timeout=60)
            first.kill()  # SIGKILL: the worker and its pool, attempts on the wire
            killed_at = len(server.requests)
            assert killed_at < total, "the worker finished before it could be killed"
            cut = sum(r["status"] == "sending" for r in fleet.rows())
            fleet.worker(concurrency=concurrency)
            rows = fleet.wait_settled(ids, timeout=120)
        finally:
            fleet.stop()
        seen = collections.Counter(r.header("Idempotency-Key") for r in server.requests)
    duplicates = sum(n - 1 for n in seen.values())
    print(
        f"\nsent {total}, received {sum(seen.values())} requests for {len(seen)} deliveries, "
        f"duplicates {duplicates} (concurrency {concurrency}; killed after {killed_at}; "
        f"{cut} leases cut)"
    )
    assert set(seen) == set(ids)  # every delivery reached the server, under its own id
    assert [r["status"] for r in rows] == ["delivered"] * total  # none left sending
    assert duplicates <= concurrency


def test_redis_restarted_mid_run_loses_nothing(own_redis, tmp_path):
    """Redis is the broker and the limiter: a restart empties the queues and the paces."""
    with RecordingServer() as server:
        server.default = Answer(200, "ok", delay=0.005)
        fleet = Fleet(tmp_path, own_redis, SINK.format(url=server.url), sweep_after="1s")
        try:
            fleet.start(workers=1, pool="prefork", concurrency=2)
            ids = send(fleet, 200)
            server.wait_for(50, timeout=60)
            own_redis.stop()  # queued tasks, unacknowledged ones and the limiter state: gone
            ids += send(fleet, 5)  # accepted while the broker is down: stored, not published
            time.sleep(0.5)
            own_redis.start()  # same port, nothing in it
            rows = fleet.wait_settled(ids, timeout=120)
            restarts = fleet.restarts
        finally:
            fleet.stop()
        received = collections.Counter(r.header("Idempotency-Key") for r in server.requests)
    print(
        f"\nsent {len(ids)} ({len(ids) - 200} while Redis was down), received "
        f"{sum(received.values())} requests, {len(received)} deliveries; "
        f"workers restarted by the supervisor: {restarts}"
    )
    assert [r["status"] for r in rows] == ["delivered"] * len(ids)
    assert set(received) == set(ids)
