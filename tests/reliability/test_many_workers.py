"""Many workers, many processes, one store: nothing lost, nothing sent too fast.

Real ``notify worker`` processes against a real PostgreSQL server (or one SQLite file),
killed and disturbed the way production is: SIGKILL, a database restart, four workers
sharing one provider's strict rate limit.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from notify_core import Message, Notifier, StoreError
from notify_core.testing import Answer, PostgresServer, RecordingServer, query

CLI = [sys.executable, "-c", "import sys; from notify_core._cli import main; sys.exit(main())"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}


def config(
    tmp_path: Path,
    db: str,
    url: str,
    *,
    lease: str = "3s",
    rate: str = "{ per_second = 100000, burst = 1000 }",
) -> Path:
    path = tmp_path / "notify.toml"
    path.write_text(f"""
[notify]
db = "{db}"
lease = "{lease}"

[channels.sink]
provider = "webhook"
url = "{url}"
timeout = 1
rate = {rate}
retry = {{ attempts = 5, backoff = 0.05, max_delay = 1 }}
""")
    return path


def enqueue(path: Path, db: str, count: int) -> None:
    """Accept ``count`` messages for the workers (concurrent sends share commits)."""

    async def send_all() -> None:
        async with Notifier.from_config(path, db=db, env={}) as notifier:
            sends = [notifier.asend(Message(title=f"m{i}"), wait=0) for i in range(count)]
            await asyncio.gather(*sends)

    asyncio.run(send_all())


def worker(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "worker", *args],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def statuses(db: str) -> dict[str, int]:
    rows = query(db, "SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status")
    return {str(r["status"]): int(r["n"]) for r in rows}  # type: ignore[call-overload]


def test_sigkill_on_postgres_loses_nothing_and_duplicates_at_most_concurrency(
    recorder, tmp_path, postgres_url
):
    total, concurrency = 2000, 8
    recorder.default = Answer(200, "ok", delay=0.002)
    path = config(tmp_path, postgres_url, f"{recorder.url}/hook")
    enqueue(path, postgres_url, total)

    first = worker(tmp_path, "--concurrency", str(concurrency))
    recorder.wait_for(total // 4, timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = len(recorder.requests)
    assert killed_at < total, "the worker finished before it could be killed"
    [cut] = query(
        postgres_url,
        "SELECT COUNT(*) AS n, MAX(lease_until) AS until FROM deliveries WHERE status = 'sending'",
    )
    if cut["until"] is not None:  # wait for the dead worker's leases to run out
        time.sleep(max(0.0, float(cut["until"]) - time.time()) + 0.1)  # type: ignore[arg-type]

    again = subprocess.run(
        [*CLI, "worker", "--once", "--concurrency", str(concurrency)],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr

    seen = collections.Counter(r.header("Idempotency-Key") for r in recorder.requests)
    stored = {r["id"] for r in query(postgres_url, "SELECT id FROM deliveries")}
    duplicates = sum(n - 1 for n in seen.values())
    print(
        f"\nsent {total}, received {sum(seen.values())} requests for {len(seen)} deliveries, "
        f"lost {len(stored - set(seen))}, duplicates {duplicates} (concurrency {concurrency}; "
        f"killed after {killed_at}; {cut['n']} leases cut)"
    )
    assert set(seen) == stored  # every delivery reached the server, under its own id
    assert len(stored) == total
    assert duplicates <= concurrency
    assert statuses(postgres_url) == {"delivered": total}  # nothing stuck in 'sending'


def test_sigterm_on_postgres_releases_what_cannot_finish_within_grace(
    recorder, tmp_path, postgres_url
):
    recorder.default = Answer(200, "ok", delay=5.0)
    path = config(tmp_path, postgres_url, f"{recorder.url}/hook", lease="60s")
    enqueue(path, postgres_url, 2)
    proc = worker(tmp_path, "--concurrency", "2", "--grace", "0.2")
    recorder.wait_for(2, timeout=30)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    rows = query(postgres_url, "SELECT status, lease_owner, next_attempt FROM deliveries")
    # handed back, due now: the next worker, on any host, takes them at once
    assert [(r["status"], r["lease_owner"]) for r in rows] == [("pending", None)] * 2
    assert all(float(r["next_attempt"]) <= time.time() for r in rows)  # type: ignore[arg-type]


def test_workers_ride_out_a_postgres_restart_and_lose_nothing(recorder, tmp_path):
    total = 300
    recorder.default = Answer(200, "ok", delay=0.005)
    with PostgresServer() as server:  # its own: restarting the session's would hit others
        db = server.create_database("restart")
        path = config(tmp_path, db, f"{recorder.url}/hook", lease="20s")
        enqueue(path, db, total)
        workers = [worker(tmp_path, "--concurrency", "4") for _ in range(2)]
        recorder.wait_for(total // 4, timeout=60)
        server.restart()
        restarted_at = len(recorder.requests)
        deadline = time.monotonic() + 90
        while True:
            try:
                if statuses(db) == {"delivered": total}:
                    break
            except Exception:
                pass
            assert time.monotonic() < deadline, f"not all delivered: {statuses(db)}"
            time.sleep(0.2)
        for proc in workers:
            proc.send_signal(signal.SIGTERM)
        errors = [proc.communicate(timeout=30)[1] for proc in workers]
        assert [proc.returncode for proc in workers] == [0, 0], errors
        stored = {r["id"] for r in query(db, "SELECT id FROM deliveries")}
        password = server.password
    seen = collections.Counter(r.header("Idempotency-Key") for r in recorder.requests)
    assert restarted_at < total, "the run ended before the restart"
    assert set(seen) == stored and len(stored) == total  # 0 lost
    logs = "".join(errors)
    assert "unavailable" in logs and "answers again" in logs  # said once per worker, not per call
    assert logs.count("retrying with backoff") <= 2 * 3  # a few outages at most, not a flood
    assert password not in logs


@pytest.mark.parametrize(
    ("backend", "processes"), [("postgres", 4), ("sqlite", 2)], ids=["postgres-4", "sqlite-2"]
)
def test_workers_share_one_pace(request, tmp_path, backend, processes):
    """Separate processes, one strict provider: no 429, none given up, the configured rate.

    The sink refuses an 11th request within any second; the channel is paced at 10/s
    with no burst. Per-process buckets would send at ``processes`` × 10/s.
    """
    count, rate = 30, 10
    db = request.getfixturevalue("postgres_url") if backend == "postgres" else "pace.db"
    with RecordingServer() as sink:
        sink.limit_per_second = rate + 1
        path = config(
            tmp_path, db, f"{sink.url}/hook", rate=f"{{ per_second = {rate}, burst = 1 }}"
        )
        location = db if backend == "postgres" else str(tmp_path / db)
        enqueue(path, location, count)
        procs = [worker(tmp_path, "--once", "--concurrency", "2") for _ in range(processes)]
        errors = [proc.communicate(timeout=120)[1] for proc in procs]
        assert [proc.returncode for proc in procs] == [0] * processes, errors
        arrivals = sorted(r.received for r in sink.requests)
        rejected = sink.rejected
    assert rejected == 0
    assert statuses(location) == {"delivered": count}
    assert len(arrivals) == count  # no retries either
    spacing = (arrivals[-1] - arrivals[0]) / (count - 1)
    print(f"\n{processes} workers on {backend}: average spacing {spacing * 1000:.1f} ms")
    assert abs(spacing - 1 / rate) <= 0.05 / rate  # within 5% of the configured pace


def test_a_store_that_cannot_be_reached_is_one_line(tmp_path):
    """A worker pointed at a database that is not there fails at once, masked."""
    from notify_core.testing._services import free_port

    url = f"postgresql://notify:hunter2hunter2@127.0.0.1:{free_port()}/notify"
    path = config(tmp_path, url, "http://127.0.0.1:9/hook")
    proc = worker(tmp_path, "--once")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.startswith("notify: error: cannot open database postgresql://notify:***@")
    assert "hunter2" not in err and err.count("\n") == 1
    with pytest.raises(StoreError):
        Notifier.from_config(path, env={}).store  # noqa: B018  (opening is the test)
