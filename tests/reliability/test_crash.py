"""Crashes, shutdowns and concurrent writers: nothing accepted is lost.

These run the real ``notify worker`` in subprocesses against a real server and one
SQLite file, and kill it the way production does (SIGKILL, SIGTERM).
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from notify_core import Message, Notifier
from notify_core.testing import Answer, RecordingServer, query

CLI = [sys.executable, "-c", "import sys; from notify_core._cli import main; sys.exit(main())"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}


def config(tmp_path: Path, url: str, *, lease: str = "3s", timeout: float = 1) -> Path:
    path = tmp_path / "notify.toml"
    path.write_text(f"""
[notify]
db = "crash.db"
lease = "{lease}"

[channels.sink]
provider = "webhook"
url = "{url}"
timeout = {timeout}
rate = {{ per_second = 100000, burst = 1000 }}
retry = {{ attempts = 5, backoff = 0.05, max_delay = 1 }}
""")
    return path


def enqueue(path: Path, count: int) -> None:
    with Notifier.from_config(path, db=path.parent / "crash.db", env={}) as notifier:
        for i in range(count):
            notifier.send(Message(title=f"m{i}", event="load.test"), wait=0)


def test_sigkill_mid_run_loses_nothing_and_duplicates_at_most_concurrency(recorder, tmp_path):
    total, concurrency = 2000, 8
    recorder.default = Answer(200, "ok", delay=0.002)
    path = config(tmp_path, f"{recorder.url}/hook")
    enqueue(path, total)

    worker = subprocess.Popen(
        [*CLI, "worker", "--concurrency", str(concurrency)],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    recorder.wait_for(total // 4, timeout=60)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    killed_at = len(recorder.requests)
    assert killed_at < total, "the worker finished before it could be killed"
    leased = query(
        tmp_path / "crash.db", "SELECT COUNT(*) AS n FROM deliveries WHERE status = 'sending'"
    )[0]["n"]

    time.sleep(3.1)  # the dead worker's leases expire
    again = subprocess.run(
        [*CLI, "worker", "--once", "--concurrency", str(concurrency)],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr

    ids = [r.header("Idempotency-Key") for r in recorder.requests]
    seen = collections.Counter(ids)
    stored = {r["id"] for r in query(tmp_path / "crash.db", "SELECT id FROM deliveries")}
    duplicates = sum(n - 1 for n in seen.values())
    print(
        f"\nsent {total}, received {len(ids)} requests for {len(seen)} deliveries, "
        f"lost {len(stored - set(seen))}, duplicates {duplicates} "
        f"(concurrency {concurrency}; killed after {killed_at}; {leased} leases cut)"
    )
    assert set(seen) == stored  # every delivery reached the server, under its own id
    assert len(stored) == total
    assert duplicates <= concurrency
    counts = query(
        tmp_path / "crash.db", "SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status"
    )
    assert counts == [{"status": "delivered", "n": total}]  # nothing stuck in 'sending'


def test_sigterm_finishes_in_flight_work_and_exits_0(recorder, tmp_path):
    recorder.default = Answer(200, "ok", delay=1.0)
    path = config(tmp_path, f"{recorder.url}/hook", lease="60s", timeout=10)
    enqueue(path, 4)
    worker = subprocess.Popen(
        [*CLI, "worker", "--concurrency", "4", "--grace", "10"],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    recorder.wait_for(4, timeout=30)  # all four requests are in flight
    worker.send_signal(signal.SIGTERM)
    _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    rows = query(tmp_path / "crash.db", "SELECT status, attempts FROM deliveries")
    assert rows == [{"status": "delivered", "attempts": 1}] * 4
    assert len(recorder.requests) == 4


def test_sigterm_releases_what_cannot_finish_within_grace(recorder, tmp_path):
    recorder.default = Answer(200, "ok", delay=5.0)
    path = config(tmp_path, f"{recorder.url}/hook", lease="60s", timeout=10)
    enqueue(path, 2)
    worker = subprocess.Popen(
        [*CLI, "worker", "--concurrency", "2", "--grace", "0.2"],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    recorder.wait_for(2, timeout=30)
    worker.send_signal(signal.SIGTERM)
    _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    rows = query(tmp_path / "crash.db", "SELECT status, lease_owner FROM deliveries")
    # handed back, due now: the next worker takes them without waiting for a lease
    assert rows == [{"status": "pending", "lease_owner": None}] * 2


def test_four_processes_share_one_store(tmp_path):
    per_process = 500
    with RecordingServer() as server:
        path = config(tmp_path, f"{server.url}/hook")
        script = textwrap.dedent(f"""
            from notify_core import Message, Notifier
            with Notifier.from_config({str(path)!r}, env={{}}) as n:
                for i in range({per_process}):
                    r = n.send(Message(title=f"m{{i}}"), wait=10)
                    assert r.ok, r
        """)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", script],
                cwd=tmp_path,
                env=ENV,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        errors = [p.communicate(timeout=240)[1] for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, errors
        received = {r.header("Idempotency-Key") for r in server.requests}
    db = tmp_path / "crash.db"
    rows = query(db, "SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status")
    assert rows == [{"status": "delivered", "n": 4 * per_process}]
    assert len(received) == 4 * per_process
    assert query(db, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
