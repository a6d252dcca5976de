"""Edges found in review: the CLI and the library agree with what the docs promise."""

from __future__ import annotations

import json

from notify_core import Providers, parse_config
from notify_core.testing import Answer, query


def write(tmp_path, text: str) -> None:
    (tmp_path / "notify.toml").write_text(text)


def test_wait_defaults_to_the_configured_value(recorder, notify_cli, tmp_path):
    recorder.default = Answer(503, "busy")
    write(
        tmp_path,
        f"""
[notify]
wait = "0.3s"
[channels.a]
provider = "webhook"
url = "{recorder.url}/a"
retry = {{ attempts = 5, backoff = 5, max_delay = 5 }}
""",
    )
    result = notify_cli("send", "-t", "x", "--json")
    [delivery] = json.loads(result.stdout)["deliveries"]
    assert delivery["status"] == "pending"  # waited 0.3 s, not 30
    assert delivery["next_attempt"].count(":") >= 2  # a time people can read
    assert result.returncode == 1


def test_adhoc_url_cannot_be_only_queued(notify_cli):
    result = notify_cli(
        "send", "--url", "http://127.0.0.1:9/x", "--provider", "webhook", "-t", "x", "--wait", "0"
    )
    assert result.returncode == 2
    assert "no worker can send" in result.stderr


def test_retry_respects_kill_switches(recorder, notify_cli, tmp_path):
    recorder.script(Answer(500, "no"))
    write(
        tmp_path,
        f"""
[channels.a]
provider = "webhook"
url = "{recorder.url}/a"
retry = {{ attempts = 1 }}
""",
    )
    notify_cli("send", "-t", "x")
    [failed] = json.loads(notify_cli("log", "--json").stdout)
    result = notify_cli("retry", failed["id"], "--json", env={"NOTIFY_DISABLED": "1"})
    [retried] = json.loads(result.stdout)
    assert retried["status"] == "skipped"
    assert retried["reason"] == "NOTIFY_DISABLED is set"
    assert len(recorder.requests) == 1


def test_debug_flag_works_after_the_command(notify_cli, tmp_path):
    write(
        tmp_path, '[notify]\nconcurrency = 0\n[channels.a]\nprovider = "webhook"\nurl = "ftp://x"\n'
    )
    result = notify_cli("send", "-t", "x", "--debug")
    assert result.returncode == 2
    assert "Traceback" in result.stderr
    assert "notify.concurrency" in result.stderr


def test_malformed_reroute_stores_nothing(notify_cli, tmp_path, recorder):
    write(tmp_path, f'[channels.a]\nprovider = "webhook"\nurl = "{recorder.url}/a"\n')
    result = notify_cli("send", "-t", "x", env={"NOTIFY_REROUTE": "nonsense"})
    assert result.returncode == 2
    assert "NOTIFY_REROUTE" in result.stderr
    assert not (tmp_path / "notify.db").exists()


def test_partial_retry_table_keeps_the_provider_defaults():
    providers = Providers.discover()
    default = providers.spec("webhook").default_retry
    config = parse_config(
        {"channels": {"a": {"provider": "webhook", "url": "http://x", "retry": {"backoff": 2}}}},
        providers,
        env={},
    )
    retry = config.channels[0].retry
    assert retry is not None
    assert retry.backoff == 2
    assert (retry.attempts, retry.max_delay) == (default.attempts, default.max_delay)


def test_db_is_relative_to_the_config_file(recorder, notify_cli, tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "notify.toml").write_text(
        f'[notify]\ndb = "here.db"\n[channels.a]\nprovider = "webhook"\nurl = "{recorder.url}/a"\n'
    )
    result = notify_cli("send", "-t", "x", "--config", "conf/notify.toml")
    assert result.returncode == 0, result.stderr
    assert len(query(tmp_path / "conf" / "here.db", "SELECT id FROM deliveries")) == 1
    assert not (tmp_path / "here.db").exists()


def test_delivered_rows_carry_no_error(recorder, notify_cli, tmp_path):
    write(tmp_path, f'[channels.a]\nprovider = "webhook"\nurl = "{recorder.url}/a"\n')
    notify_cli("send", "-t", "x")
    [row] = query(tmp_path / "notify.db", "SELECT status, last_error FROM deliveries")
    assert row == {"status": "delivered", "last_error": None}
