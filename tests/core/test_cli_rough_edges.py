"""What a new user met at a terminal: each rough edge, in the real CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from notify_core.testing import Answer, query, run_notify_tty

ID = re.compile(r"\b[0-9a-f]{21}\b")
CLI = [sys.executable, "-c", "import sys; from notify_core._cli import main; sys.exit(main())"]


def console_config(tmp_path):
    (tmp_path / "notify.toml").write_text('[channels.dev]\nprovider = "console"\n')


def test_ids_are_never_cut_on_an_80_column_terminal_and_statuses_have_colour(tmp_path):
    console_config(tmp_path)
    sent = run_notify_tty("send", "-t", "x" * 60, "-b", "y" * 300, cwd=tmp_path)
    assert sent.returncode == 0
    assert "\x1b[32mdelivered" in sent.stdout  # green
    [delivery_id] = set(ID.findall(sent.stdout))
    log = run_notify_tty("log", cwd=tmp_path, columns=80)
    assert delivery_id in log.stdout  # whole, so it can be copied into `notify log show`
    assert "\x1b[" in log.stdout
    plain = run_notify_tty("log", cwd=tmp_path, columns=80, env={"NO_COLOR": "1"})
    assert delivery_id in plain.stdout
    assert "\x1b[3" not in plain.stdout


def test_piped_output_has_no_colour(notify_cli, tmp_path):
    console_config(tmp_path)
    result = notify_cli("send", "-t", "x")
    assert "\x1b[" not in result.stdout


def test_bare_notify_prints_help_and_exits_0(notify_cli):
    result = notify_cli()
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: notify")
    assert result.stderr == ""


def test_title_is_marked_required_in_help(notify_cli):
    assert "The headline (required)." in notify_cli("send", "--help").stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["log", "--limit", "99999999999999999999"], "--limit"),
        (["silence", "--event", "*", "--for", "99999999999d"], "too long (at most 100 years)"),
        (["send", "-t", "x", "--wait", "nan"], "--wait: must be a number of seconds"),
        (["send", "-t", "x", "--wait", "inf"], "--wait: must be a number of seconds"),
        (["prune", "--older-than", "99999999999d"], "too long"),
    ],
)
def test_values_out_of_range_are_usage_errors(notify_cli, tmp_path, args, expected):
    console_config(tmp_path)
    notify_cli("send", "-t", "make the database")
    result = notify_cli(*args)
    assert result.returncode == 2, result
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_an_adhoc_send_ignores_the_configuration_in_the_folder(notify_cli, tmp_path):
    (tmp_path / "notify.toml").write_text("this is [not toml")
    result = notify_cli("send", "--url", "console://", "-t", "ad hoc")
    assert result.returncode == 0, result.stderr
    named = notify_cli("send", "--url", "console://", "-t", "x", "--config", "notify.toml")
    assert named.returncode == 2  # a configuration named on purpose is read
    assert "invalid TOML" in named.stderr


def test_the_worker_summary_counts_deliveries_not_attempts(tmp_path, recorder):
    recorder.script(503, 503, path="/a")
    (tmp_path / "notify.toml").write_text(
        f'[channels.a]\nprovider = "webhook"\nurl = "{recorder.url}/a"\n'
        "retry = { attempts = 5, backoff = 0.01, max_delay = 0.02 }\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}
    subprocess.run([*CLI, "send", "-t", "x", "--wait", "0"], cwd=tmp_path, env=env, check=True)
    worker = subprocess.Popen(
        [*CLI, "worker"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        recorder.wait_for(3, timeout=20)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=20)
    assert len(recorder.requests) == 3  # one delivery, three attempts (503, 503, 200)
    assert "worker stopped: delivered 1, failed 0, pending 0, skipped 0" in err


def test_log_reads_a_read_only_database(notify_cli, tmp_path, request):
    """As someone who may read the database but not write it (a copy, a read-only mount)."""
    if os.geteuid() != 0:
        pytest.fail("this test drops privileges to `nobody` to make a file read-only: run as root")
    console_config(tmp_path)
    assert notify_cli("send", "-t", "kept").returncode == 0
    folder = Path(tempfile.mkdtemp(prefix="notify-ro-"))  # under /tmp: nobody can reach it
    request.addfinalizer(lambda: shutil.rmtree(folder, ignore_errors=True))
    folder.chmod(0o755)
    for name in ("notify.db", "notify.toml"):
        shutil.copy(tmp_path / name, folder / name)
        (folder / name).chmod(0o444)
    site = sysconfig.get_paths()["purelib"]  # this environment's packages, for Debian's python
    code = (
        f"import site; site.addsitedir({site!r}); import sys; "
        "from notify_core._cli import main; sys.exit(main())"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}
    try:
        result = subprocess.run(
            ["/usr/bin/python3", "-c", code, "log", "--json"], cwd=folder, env=env,
            capture_output=True, text=True, user="nobody", group="nogroup", extra_groups=[],
            check=False,
        )  # fmt: skip
    except PermissionError as exc:
        pytest.fail(f"cannot run /usr/bin/python3 as nobody ({exc}): apt-get install python3")
    if "No module named" in result.stderr:
        pytest.fail(f"nobody cannot read this environment's packages at {site}: {result.stderr}")
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert row["status"] == "delivered"


def test_prune_asks_first_and_off_a_terminal_wants_yes(notify_cli, tmp_path):
    console_config(tmp_path)
    for title in ("a", "b"):
        assert notify_cli("send", "-t", title).returncode == 0
    count = "SELECT COUNT(*) AS n FROM deliveries"
    dry = notify_cli("prune", "--older-than", "0s", "--dry-run")
    assert dry.stdout.strip() == "would remove 2 finished deliveries older than 0s"
    refused = notify_cli("prune", "--older-than", "0s")
    assert refused.returncode == 2
    assert "pass --yes (or --dry-run to count only)" in refused.stderr
    assert query(tmp_path / "notify.db", count)[0]["n"] == 2
    declined = run_notify_tty("prune", "--older-than", "0s", cwd=tmp_path, answer="n\n")
    assert "Remove 2 finished deliveries older than 0s? [y/N]" in declined.stdout
    assert declined.returncode == 1
    assert query(tmp_path / "notify.db", count)[0]["n"] == 2
    done = notify_cli("prune", "--older-than", "0s", "--yes")
    assert done.stdout.strip() == "removed 2 finished deliveries older than 0s"
    assert query(tmp_path / "notify.db", count)[0]["n"] == 0


def test_prune_of_a_database_that_is_not_there_creates_none(notify_cli, tmp_path):
    result = notify_cli("prune", "--older-than", "1d", "--yes", "--db", "typo.db")
    assert result.returncode == 2
    assert "no database at typo.db" in result.stderr
    assert not (tmp_path / "typo.db").exists()


def test_an_explicit_retry_goes_out_to_a_disabled_channel_with_a_warning(
    notify_cli, tmp_path, recorder
):
    recorder.script(Answer(400, "bad"), path="/a")
    (tmp_path / "notify.toml").write_text(
        f'[channels.a]\nprovider = "webhook"\nurl = "{recorder.url}/a"\n'
    )
    sent = json.loads(notify_cli("send", "-t", "x", "--json").stdout)
    [failed] = sent["deliveries"]
    assert failed["status"] == "failed"
    assert notify_cli("disable", "a", "--reason", "maintenance").returncode == 0
    result = notify_cli("retry", failed["id"])
    assert result.returncode == 0, result
    assert result.stdout.startswith("delivered")
    assert "notify: warning: a is disabled by hand: maintenance; retrying anyway" in result.stderr
    assert len(recorder.requests) == 2
    later = json.loads(notify_cli("send", "-t", "y", "--json").stdout)
    assert later["deliveries"][0]["status"] == "skipped"  # still off for everything else


def test_a_slow_send_says_what_it_waits_for_on_a_terminal_only(tmp_path, recorder, notify_cli):
    recorder.script(Answer(200, "ok", delay=1.5), path="/slow")
    recorder.script(Answer(200, "ok", delay=1.5), path="/slow")
    (tmp_path / "notify.toml").write_text(
        f'[channels.slow]\nprovider = "webhook"\nurl = "{recorder.url}/slow"\n'
    )
    shown = run_notify_tty("send", "-t", "x", cwd=tmp_path)
    assert shown.returncode == 0
    assert "waiting for slow: attempt 1, waiting 1s" in shown.stdout
    last = shown.stdout.rstrip().splitlines()[-1].split("\x1b[K")[-1]
    assert last.startswith("\x1b[32mdelivered")  # the status line is erased before the result
    quiet = run_notify_tty("send", "-t", "x", "--quiet", cwd=tmp_path)
    assert "waiting for" not in quiet.stdout
    recorder.script(Answer(200, "ok", delay=1.5), path="/slow")
    piped = notify_cli("send", "-t", "x")
    assert "waiting for" not in piped.stdout + piped.stderr


def test_init_writes_a_starter_that_checks_and_sends(notify_cli, tmp_path):
    result = notify_cli("init")
    assert result.returncode == 0, result
    text = (tmp_path / "notify.toml").read_text()
    for provider in ("webhook", "slack", "teams", "pagerduty", "discord", "mattermost"):
        assert f'# provider = "{provider}"' in text
    assert notify_cli("check").returncode == 0
    sent = notify_cli("send", "-t", "Hello")
    assert sent.returncode == 0 and "[INFO] Hello" in sent.stdout
    again = notify_cli("init")
    assert again.returncode == 2
    assert "notify.toml exists; pass --force to overwrite it" in again.stderr
    assert notify_cli("init", "--force").returncode == 0


def test_a_typo_in_a_provider_suggests_the_name_not_an_install(notify_cli, tmp_path):
    (tmp_path / "notify.toml").write_text('[channels.a]\nprovider = "webhok"\nurl = "http://x/"\n')
    result = notify_cli("check")
    assert "unknown provider 'webhok': did you mean 'webhook'?" in result.stderr
    assert "pip install" not in result.stderr


def test_a_blocked_provider_names_the_variable(notify_cli, tmp_path):
    result = notify_cli(
        "send", "--url", "https://hooks.slack.com/services/T0/B0/XXXXXXXXXXXX", "--provider",
        "slack", "-t", "x", env={"NOTIFY_BLOCK_PLUGINS": "slack"},
    )  # fmt: skip
    assert result.returncode == 2
    assert "provider 'slack' is installed but blocked by NOTIFY_BLOCK_PLUGINS" in result.stderr
    assert "install" not in result.stderr.replace("is installed", "")


def test_an_html_error_page_reads_as_its_title(notify_cli, tmp_path, recorder):
    page = (
        "<!DOCTYPE html>\n<html><head><title>502 Bad   Gateway</title></head>"
        "<body>nginx</body></html>"
    )
    recorder.script(Answer(502, page, headers={"Content-Type": "text/html"}), path="/a")
    (tmp_path / "notify.toml").write_text(
        f'[channels.a]\nprovider = "webhook"\nurl = "{recorder.url}/a"\n'
        "retry = { attempts = 1 }\n"
    )
    [delivery] = json.loads(notify_cli("send", "-t", "x", "--json").stdout)["deliveries"]
    assert delivery["reason"] == "gave up after 1 attempts: HTTP 502: 502 Bad Gateway"


def test_a_refused_connection_says_so_without_aiohttp_noise(notify_cli, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "notify.toml").write_text(
        f'[channels.a]\nprovider = "webhook"\nurl = "http://127.0.0.1:{port}/a"\n'
        "retry = { attempts = 1 }\n"
    )
    [delivery] = json.loads(notify_cli("send", "-t", "x", "--json").stdout)["deliveries"]
    assert delivery["reason"] == (
        f"gave up after 1 attempts: connection error: cannot connect to 127.0.0.1:{port}: "
        "Connection refused"
    )


def test_check_warns_about_a_template_only_some_events_can_fill(notify_cli, tmp_path, recorder):
    (tmp_path / "notify.toml").write_text(
        f'[channels.a]\nprovider = "webhook"\nurl = "{recorder.url}/a"\n'
        'settings.template = { text = "{title} on {host}" }\n'
    )
    result = notify_cli("check")
    assert result.returncode == 0  # a warning: events that carry `host` fill it
    assert "channels.a: warning: a trial message could not be built" in result.stderr
    assert "unknown template key 'host'" in result.stderr
    report = json.loads(notify_cli("check", "--json").stdout)
    assert report["ok"] is True
    assert report["warnings"][0]["path"] == "channels.a"
