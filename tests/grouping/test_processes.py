"""Grouping across real processes: the CLI, `notify worker` killed and restarted, one SQLite file
(or one PostgreSQL database that two workers share).

These run the real ``notify`` command in subprocesses against a RecordingServer, the
way production does, and read the store the way an operator would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from notify_core import Message, Notifier
from notify_core.testing import RecordingServer, query

CLI = [sys.executable, "-c", "import sys; from notify_core._cli import main; sys.exit(main())"]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}


def write_config(tmp_path: Path, url: str, *, wait: str, interval: str = "1m") -> Path:
    path = tmp_path / "notify.toml"
    path.write_text(f"""
[notify]
db = "g.db"
lease = "3s"

[channels.ops]
provider = "webhook"
url = "{url}/ops"
timeout = 10
rate = {{ per_second = 1000, burst = 100 }}
group = {{ by = ["event"], wait = "{wait}", interval = "{interval}" }}
""")
    return path


def start_worker(tmp_path: Path, env: dict[str, str] = ENV) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "worker"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def enqueue(path: Path, titles: list[str], db: str | Path | None = None) -> None:
    with Notifier.from_config(path, db=db or path.parent / "g.db", env={}) as notifier:
        for title in titles:
            result = notifier.send(Message(title=title, event="check.failed"), wait=0)
            assert result.deliveries[0].reason.startswith("grouped: goes out with group")


def test_a_worker_killed_during_the_wait_loses_nothing_and_the_group_goes_out_once(
    recorder, tmp_path
):
    path = write_config(tmp_path, recorder.url, wait="5s")
    db = tmp_path / "g.db"
    worker = start_worker(tmp_path)
    enqueue(path, [f"check {i} failed" for i in range(10)])
    [waiting] = query(db, "SELECT due, last_sent FROM delivery_groups")
    assert waiting["last_sent"] is None
    assert waiting["due"] > time.time(), "too slow: the wait was over before the kill"
    worker.send_signal(signal.SIGKILL)  # mid-wait, the way an OOM killer or a reboot does
    worker.wait(timeout=10)
    assert recorder.requests == []
    enqueue(path, [f"check {i} failed" for i in range(10, 20)])
    # a second worker claimed the group and died before settling it: its claim must
    # expire, not hold the group forever, nor let it go out twice
    with Notifier.from_config(path, db=db, env={}) as dead:
        assert len(dead.store.claim_groups("dead-worker", limit=10, lease=2)) in (0, 1)

    restarted = start_worker(tmp_path)
    try:
        recorder.wait_for(1, timeout=60)
        # the group is settled (not claimed, nothing due soon) before the worker stops
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            [group] = query(db, "SELECT lease_owner, last_sent FROM delivery_groups")
            if group["last_sent"] is not None and group["lease_owner"] is None:
                break
            time.sleep(0.05)
    finally:
        restarted.send_signal(signal.SIGTERM)
        _, err = restarted.communicate(timeout=30)
    assert restarted.returncode == 0, err
    again = subprocess.run(
        [*CLI, "worker", "--once"], cwd=tmp_path, env=ENV, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr

    assert len(recorder.requests) == 1  # once
    body = recorder.requests[0].json()
    group = body["data"]["group"]
    assert group["count"] == 20  # with every item, from before and after the kill
    assert sorted(i["title"] for i in group["items"]) == sorted(
        f"check {i} failed" for i in range(20)
    )
    rows = query(db, "SELECT id, status, last_error FROM deliveries ORDER BY created, id")
    [summary] = [r for r in rows if r["status"] != "skipped"]
    assert summary["status"] == "delivered"
    assert body["id"] == summary["id"]
    assert [r["last_error"] for r in rows if r is not summary] == [
        f"grouped: went out in delivery {summary['id']} with group ops{{event=check.failed}}"
    ] * 20


def test_two_workers_on_postgres_flush_a_group_once(recorder, tmp_path, postgres_url):
    """Two `notify worker`s share one PostgreSQL store, both idle when the group falls due:
    the claim is leased and taken ``FOR UPDATE SKIP LOCKED``, so one of them sends the
    summary, once, with every item."""
    path = write_config(tmp_path, recorder.url, wait="1s")
    env = {**ENV, "NOTIFY_DB": postgres_url}
    workers = [start_worker(tmp_path, env) for _ in range(2)]
    try:
        enqueue(path, [f"check {i} failed" for i in range(10)], db=postgres_url)
        recorder.wait_for(1, timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # settled: sent, and nobody holds a claim
            [group] = query(postgres_url, "SELECT lease_owner, last_sent FROM delivery_groups")
            if group["last_sent"] is not None and group["lease_owner"] is None:
                break
            time.sleep(0.05)
        assert all(w.poll() is None for w in workers), "a worker died"
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        errors = [w.communicate(timeout=30)[1] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], errors
    assert len(recorder.requests) == 1  # once
    group = recorder.requests[0].json()["data"]["group"]
    assert group["count"] == 10
    rows = query(postgres_url, "SELECT id, status FROM deliveries WHERE status != 'skipped'")
    assert [r["status"] for r in rows] == ["delivered"]
    assert [r["n"] for r in query(postgres_url, "SELECT COUNT(*) AS n FROM group_carried")] == [10]


def _reading_stdin(pid: int) -> bool:
    """Whether process ``pid`` is blocked reading a pipe (Linux /proc)."""
    try:
        wchan = Path(f"/proc/{pid}/wchan").read_text()
        syscall = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    return "pipe_read" in wchan or syscall[:2] == ["0", "0x0"]


@pytest.mark.slow
def test_forty_notify_sends_in_a_burst_become_one_delivery(recorder, tmp_path):
    """Forty `notify send` processes in a burst, a `notify worker` running: one delivery.

    The group waits 5 s, not the 2 s a faster machine would need: each `notify send`
    spends about 0.35 s of CPU (0.1 s of it after its body is read), so forty of them on
    two shared cores arrive over 1.3 to 3 s, and items past the wait would rightly go
    out one interval later. The figures are printed.
    """
    wait = 5
    write_config(tmp_path, recorder.url, wait=f"{wait}s")
    db = tmp_path / "g.db"
    assert run(tmp_path, "check").returncode == 0
    worker = start_worker(tmp_path)
    try:
        # Forty real `notify send` processes. Each reads its body from stdin, so all of
        # them start (imports, plugins) first and then send together, as fast as
        # processes allow on this machine: a burst, not a trickle.
        sends = [
            subprocess.Popen(
                [
                    *CLI,
                    "send",
                    "-t",
                    f"check {i} failed",
                    "--event",
                    "check.failed",
                    "--json",
                    "--field",
                    f"table=t{i}",
                    "--action",
                    f"Open=https://dq.example.com/{i}",
                    "--body",
                    "-",
                ],
                cwd=tmp_path,
                env=ENV,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for i in range(40)
        ]
        deadline = time.monotonic() + 120
        while not all(_reading_stdin(p.pid) for p in sends):
            assert time.monotonic() < deadline, "the senders never got to reading their body"
            time.sleep(0.02)
        for p in sends:
            assert p.stdin is not None
            p.stdin.write(b"row count is 0")
            p.stdin.close()
        outcomes = [(p.wait(timeout=120), p.stdout, p.stderr) for p in sends]
        for code, out, err in outcomes:
            assert out is not None and err is not None
            assert code == 0, err.read()
            [delivery] = json.loads(out.read())["deliveries"]
            assert delivery["status"] == "skipped"
            assert delivery["reason"].startswith("grouped: goes out with group ops{")
            out.close()
            err.close()
        arrived = query(db, "SELECT MIN(created) AS first, MAX(created) AS last FROM deliveries")[0]
        recorder.wait_for(1, timeout=60)
        deadline = time.monotonic() + 30
        while not query(db, "SELECT 1 FROM deliveries WHERE status = 'delivered'"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
    # one delivery (a retry of it, on a machine slow enough to time it out, is still one)
    assert len({r.header("Idempotency-Key") for r in recorder.requests}) == 1
    request = recorder.requests[0]
    items = request.json()["data"]["group"]["items"]
    assert len(items) == 40
    assert sorted(i["title"] for i in items) == sorted(f"check {i} failed" for i in range(40))
    assert {i["body"] for i in items} == {"row count is 0"}
    assert request.received >= arrived["first"] + wait  # not before its wait was over
    print(
        f"\n40 sends arrived within {arrived['last'] - arrived['first']:.2f}s; the summary "
        f"went out {request.received - arrived['first']:.2f}s after the first (wait {wait}s)"
    )


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=tmp_path, env=ENV, capture_output=True, text=True)


def test_groups_and_the_log_say_what_became_of_every_message(tmp_path):
    with RecordingServer() as server:
        write_config(tmp_path, server.url, wait="0s")
        for i in range(3):
            sent = run(tmp_path, "send", "-t", f"check {i} failed", "--event", "check.failed")
            assert sent.returncode == 0, sent.stderr
            assert "grouped: goes out with group ops{event=check.failed} by " in sent.stdout
            assert sent.stdout.startswith("skipped")
        listed = run(tmp_path, "groups", "--json")
        assert listed.returncode == 0, listed.stderr
        [group] = json.loads(listed.stdout)
        assert group["key"] == "ops{event=check.failed}"
        assert (group["items"], group["new"], group["next"]) == (3, 3, "3 new")
        assert group["goes_out"] is not None and group["last_sent"] is None
        table = run(tmp_path, "groups")
        assert group["id"] in table.stdout and "3 new" in table.stdout
        shown = run(tmp_path, "groups", "show", group["id"][:6], "--json")
        assert shown.returncode == 0, shown.stderr
        assert [i["dedup_key"] for i in json.loads(shown.stdout)["items_list"]] == [
            f"check.failed:check {i} failed" for i in range(3)
        ]
        worked = run(tmp_path, "worker", "--once")
        assert worked.returncode == 0, worked.stderr
        assert len(server.requests) == 1

    log = json.loads(run(tmp_path, "log", "--json").stdout)
    [summary] = [r for r in log if r["carried"] is not None]
    assert summary["carried"] == 3 and summary["status"] == "delivered"
    members = [r for r in log if r["carried"] is None]
    assert {r["last_error"] for r in members} == {
        f"grouped: went out in delivery {summary['id']} with group ops{{event=check.failed}}"
    }
    plain = run(tmp_path, "log").stdout
    assert "check.failed ×3" in plain
    show = run(tmp_path, "log", "show", summary["id"])
    assert "carried: 3 items" in show.stdout
    assert f"item 1: {members[-1]['id']} new firing  check 0 failed" in show.stdout
    detail = json.loads(run(tmp_path, "log", "show", summary["id"], "--json").stdout)
    assert [c["title"] for c in detail["carried_items"]] == [f"check {i} failed" for i in range(3)]
    member = run(tmp_path, "log", "show", members[0]["id"])
    assert f"carried by: {summary['id']}" in member.stdout
    after = json.loads(run(tmp_path, "groups", "--json").stdout)
    assert [(g["new"], g["goes_out"], g["next"]) for g in after] == [
        (0, None, "nothing until news")
    ]
    assert run(tmp_path, "groups", "show", "nope").returncode == 2


def test_a_bad_group_table_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "notify.toml").write_text("""
[channels.ops]
provider = "webhook"
url = "https://hooks.example.com/x"
group = { wait = "soon" }
""")
    checked = run(tmp_path, "check")
    assert checked.returncode == 2
    assert checked.stderr.splitlines() == [
        "notify.toml: channels.ops.group.wait: expected a duration like 30s, 5m, 2h or 7d, "
        "got 'soon'"
    ]
