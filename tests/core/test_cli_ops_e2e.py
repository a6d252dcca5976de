"""Operating notify from the shell, as a newcomer would: real CLI, real server, real store."""

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
from notify_core.testing import Answer, query

CLI = [sys.executable, "-c", "import sys; from notify_core._cli import main; sys.exit(main())"]


def write_config(tmp_path: Path, good: str, bad: str, db: str = "ops.db") -> None:
    (tmp_path / "notify.toml").write_text(f"""
[notify]
db = "{db}"

[channels.good]
provider = "webhook"
url = "{good}"
retry = {{ attempts = 2, backoff = 0.01 }}

[channels.flaky]
provider = "webhook"
url = "{bad}"
retry = {{ attempts = 2, backoff = 0.01 }}
""")


def as_json(result):
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_find_fix_and_replay_a_failed_delivery(recorder, notify_cli, tmp_path, store_db):
    recorder.script(Answer(404, "no such hook"), path="/wrong")
    write_config(tmp_path, f"{recorder.url}/good", f"{recorder.url}/wrong", store_db)

    sent = notify_cli("send", "-t", "Nightly build", "-b", "green")
    assert sent.returncode == 1  # one of two failed

    log = as_json(notify_cli("log", "--json"))
    assert {d["channel"]: d["status"] for d in log} == {"good": "delivered", "flaky": "failed"}
    [failed] = as_json(notify_cli("log", "--status", "failed", "--json"))
    assert failed["last_status"] == 404

    shown = as_json(notify_cli("log", "show", failed["id"][:14], "--json"))
    assert shown["id"] == failed["id"]
    assert shown["message"]["title"] == "Nightly build"
    assert shown["payload"]["body"]["title"] == "Nightly build"
    [attempt] = shown["attempts_log"]
    assert (attempt["http_status"], attempt["outcome"]) == (404, "failed")
    assert attempt["response"] == "no such hook"

    write_config(tmp_path, f"{recorder.url}/good", f"{recorder.url}/fixed", store_db)  # fixed
    retried = notify_cli("retry", failed["id"], "--json")
    assert retried.returncode == 0, retried.stderr
    [result] = json.loads(retried.stdout)
    assert (result["id"], result["status"], result["attempts"]) == (failed["id"], "delivered", 2)
    assert len(recorder.to("/fixed")) == 1
    assert recorder.to("/fixed")[0].json()["id"] == failed["id"]  # same id on the replay
    history = query(
        store_db,
        "SELECT number, http_status FROM attempts WHERE delivery_id = ? ORDER BY number",
        failed["id"],
    )
    assert [(a["number"], a["http_status"]) for a in history] == [(1, 404), (2, 200)]


def test_disable_and_enable_a_channel(recorder, notify_cli, tmp_path, store_db):
    write_config(tmp_path, f"{recorder.url}/good", f"{recorder.url}/other", store_db)
    off = notify_cli("disable", "good", "--reason", "maintenance window")
    assert off.returncode == 0
    assert "disabled by hand: maintenance window" in off.stdout
    channels = {c["channel"]: c for c in as_json(notify_cli("channels", "--json"))}
    assert channels["good"]["state"] == "disabled by hand: maintenance window"
    assert channels["flaky"]["state"] == "enabled"

    result = as_json(notify_cli("send", "-t", "x", "--to", "good", "--json"))
    assert result["deliveries"][0]["status"] == "skipped"
    assert recorder.to("/good") == []

    assert notify_cli("enable", "good").returncode == 0
    result = as_json(notify_cli("send", "-t", "y", "--to", "good", "--json"))
    assert result["deliveries"][0]["status"] == "delivered"
    assert len(recorder.to("/good")) == 1


def test_channels_lists_masked_targets_and_health(recorder, notify_cli, tmp_path):
    write_config(tmp_path, f"{recorder.url}/hooks/T0KEN0123456789abcdef", f"{recorder.url}/b")
    notify_cli("send", "-t", "x", "--to", "good")
    listed = {c["channel"]: c for c in as_json(notify_cli("channels", "--json"))}
    good = listed["good"]
    assert "T0KEN0123456789abcdef" not in json.dumps(listed)
    assert good["provider"] == "webhook"
    assert good["events"] == ["*"]
    assert good["rate"] == {"per_second": 10.0, "burst": 20}
    assert good["last_success"] is not None
    assert good["consecutive_failures"] == 0
    plain = notify_cli("channels")
    assert "good" in plain.stdout and "T0KEN0123456789abcdef" not in plain.stdout


def test_check_lists_every_problem(notify_cli, tmp_path):
    (tmp_path / "notify.toml").write_text("""
[channels.one]
provider = "webhook"
url = "ftp://nope"
[channels.two]
provider = "webhook"
url = "http://ok.example.com/"
rate = { per_second = "fast" }
[channels.three]
provider = "webhook"
url = "https://fine.example.com/hook"
""")
    result = notify_cli("check")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert any("channels.one.url" in line for line in lines)
    assert any("channels.two.rate.per_second" in line for line in lines)
    report = json.loads(notify_cli("check", "--json").stdout)
    assert report["ok"] is False
    assert {p["path"] for p in report["problems"]} == {
        "channels.one.url",
        "channels.two.rate.per_second",
    }


def test_check_passes_a_good_config(notify_cli, tmp_path, recorder):
    write_config(tmp_path, f"{recorder.url}/a", f"{recorder.url}/b")
    result = notify_cli("check")
    assert result.returncode == 0
    assert "ok (2 channels" in result.stdout


def test_test_command_sends_a_labelled_notification(recorder, notify_cli, tmp_path):
    write_config(tmp_path, f"{recorder.url}/good", f"{recorder.url}/b")
    result = notify_cli("test", "good", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["status"] == "delivered"
    assert out["response"] == "ok"
    [request] = recorder.to("/good")
    assert request.json()["title"] == "notify test: good"
    assert request.json()["event"] == "notify.test"


def test_prune_keeps_pending_work(notify_cli, tmp_path, recorder, store_db):
    write_config(tmp_path, f"{recorder.url}/a", f"{recorder.url}/b", store_db)
    assert notify_cli("send", "-t", "done", "--to", "good").returncode == 0
    assert notify_cli("send", "-t", "later", "--to", "good", "--wait", "0").returncode == 0
    time.sleep(0.05)
    result = as_json(notify_cli("prune", "--older-than", "0s", "--yes", "--json"))
    assert result == {"removed": 1}
    assert [r["status"] for r in query(store_db, "SELECT status FROM deliveries")] == ["pending"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["log", "--since", "soon"], "--since: expected a duration"),
        (["log", "--status", "lost"], "--status 'lost'"),
        (["log", "show", "zzz"], "no database at "),  # read commands never create one
        (["log", "--db", "typo.db"], "no database at typo.db"),
        (["retry"], "give the delivery IDs to retry, or --failed"),
        (["retry", "--channel", "good"], "give the delivery IDs to retry, or --failed"),
        (["retry", "abc", "--failed"], "give delivery IDs or --failed, not both"),
        (["enable", "nope"], "unknown channel 'nope'"),
        (["test", "nope"], "unknown channel 'nope'"),
        (["worker", "--concurrency", "0"], "--concurrency"),
        (["prune", "--older-than", "forever"], "--older-than"),
        (["prune"], "--older-than"),
        (["nosuchcommand"], "No such command"),
    ],
)
def test_wrong_arguments_never_print_a_traceback(notify_cli, tmp_path, recorder, args, expected):
    write_config(tmp_path, f"{recorder.url}/a", f"{recorder.url}/b")
    result = notify_cli(*args)
    assert result.returncode == 2, result
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "typo.db").exists()


def test_an_unknown_delivery_id_is_named(notify_cli, tmp_path, recorder):
    write_config(tmp_path, f"{recorder.url}/a", f"{recorder.url}/b")
    assert notify_cli("send", "-t", "x", "--to", "good").returncode == 0
    result = notify_cli("log", "show", "zzz")
    assert result.returncode == 2
    assert "no delivery 'zzz'" in result.stderr


def test_version_lists_core_and_plugins(notify_cli):
    result = notify_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("notify-core ")
    assert "notify-webhook" in result.stdout


def test_worker_stops_on_ctrl_c_without_losing_or_duplicating(recorder, tmp_path):
    recorder.default = Answer(200, "ok", delay=0.02)
    write_config(tmp_path, f"{recorder.url}/good", f"{recorder.url}/b")
    (tmp_path / "notify.toml").write_text(
        (tmp_path / "notify.toml")
        .read_text()
        .replace(
            'url = "' + recorder.url + '/good"',
            'url = "' + recorder.url + '/good"\nrate = { per_second = 1000, burst = 50 }',
        )
    )
    total = 300
    with Notifier.from_config(tmp_path / "notify.toml", db=tmp_path / "ops.db", env={}) as n:
        for i in range(total):
            n.send(Message(title=f"m{i}"), to=["good"], wait=0)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}
    worker = subprocess.Popen(
        [*CLI, "worker", "--concurrency", "4"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    recorder.wait_for(40, timeout=30)
    worker.send_signal(signal.SIGINT)
    _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert "worker stopped" in err
    stuck = query(
        tmp_path / "ops.db", "SELECT COUNT(*) AS n FROM deliveries WHERE status = 'sending'"
    )[0]["n"]
    assert stuck == 0
    done_first = len(recorder.requests)
    assert done_first < total  # it really was interrupted mid-run

    finish = subprocess.run(
        [*CLI, "worker", "--once"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finish.returncode == 0, finish.stderr
    statuses = query(
        tmp_path / "ops.db", "SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status"
    )
    assert statuses == [{"status": "delivered", "n": total}]
    ids = [r.header("Idempotency-Key") for r in recorder.requests]
    assert len(set(ids)) == total  # nothing lost
    assert len(ids) == total  # nothing sent twice: in-flight work finished before exit


def test_every_command_on_postgres_with_the_password_masked(
    recorder, notify_cli, tmp_path, postgres_server, postgres_url
):
    """``--db`` and ``$NOTIFY_DB`` take a URL; no output ever shows its password.

    (log, log show, retry, enable/disable and prune run on both stores above.)
    """
    password = postgres_server.password
    write_config(tmp_path, f"{recorder.url}/good", f"{recorder.url}/b", "unused.db")
    db = ["--db", postgres_url]
    env = {"NOTIFY_DB": postgres_url}
    runs = [
        notify_cli("send", "-t", "queued", "--to", "good", "--wait", "0", *db),
        notify_cli("worker", "--once", env=env),
        notify_cli("silence", "--event", "backup.*", "--for", "1h", "--reason", "move", *db),
        notify_cli("channels", env=env),
        notify_cli("log", "show", "nope", *db),  # an error that names the store
    ]
    [silence] = as_json(notify_cli("silences", "--json", env=env))
    runs.append(notify_cli("unsilence", silence["id"], *db))
    assert [r.returncode for r in runs] == [0, 0, 0, 0, 2, 0], runs
    assert "delivered" in runs[1].stdout and len(recorder.requests) == 1
    assert silence["event"] == "backup.*" and silence["reason"] == "move"
    assert "good" in runs[3].stdout
    assert "no delivery 'nope' in postgresql://notify:***@" in runs[4].stderr
    for run in runs:
        assert password not in run.stdout + run.stderr
    assert not (tmp_path / "unused.db").exists()  # --db and NOTIFY_DB won over [notify].db
