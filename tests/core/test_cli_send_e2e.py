"""The foundation's promises, checked the way a newcomer would: the real CLI in a
subprocess, a real HTTP server on 127.0.0.1, a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from notify_core.testing import Answer, RecordingServer, query, stored_bytes

SECRET_TOKEN = "s3cr3tT0kenABCDEF1234567890"
SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "notify.toml"
    path.write_text(text)
    return path


def test_adhoc_url_send_delivers_once_and_records_it(recorder, notify_cli, tmp_path):
    result = notify_cli(
        "send",
        "--url",
        f"{recorder.url}/hook",
        "--provider",
        "webhook",
        "-t",
        "Training complete",
        "-b",
        "accuracy 0.97",
        "--field",
        "accuracy=0.97",
    )
    assert result.returncode == 0, result.stderr
    assert len(recorder.requests) == 1
    request = recorder.requests[0]
    assert request.method == "POST"
    body = request.json()
    assert body["title"] == "Training complete"
    assert body["body"] == "accuracy 0.97"
    assert body["fields"] == [{"name": "accuracy", "value": "0.97"}]
    deliveries = query(tmp_path / "notify.db", "SELECT * FROM deliveries")
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("delivered", 1)]
    assert request.header("Idempotency-Key") == deliveries[0]["id"] == body["id"]
    attempts = query(tmp_path / "notify.db", "SELECT * FROM attempts")
    assert [(a["number"], a["http_status"], a["outcome"]) for a in attempts] == [
        (1, 200, "delivered")
    ]


def config_two_channels(tmp_path: Path, first: str, second: str, **extra: str) -> Path:
    retry = "retry = { attempts = 4, backoff = 0.05, max_delay = 1 }"
    return write_config(
        tmp_path,
        f"""
[notify]
db = "store.db"

[channels.first]
provider = "webhook"
url = "{first}"
timeout = {extra.get("timeout", "5")}
{retry}

[channels.second]
provider = "webhook"
url = "{second}"
{retry}
""",
    )


def test_server_error_twice_then_ok_is_retried_to_delivery(recorder, notify_cli, tmp_path):
    recorder.script(500, 500, Answer(200, "ok"), path="/a")
    config_two_channels(tmp_path, f"{recorder.url}/a", f"{recorder.url}/b")
    result = notify_cli("send", "-t", "flaky", "--to", "first")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(recorder.to("/a")) == 3
    [delivery] = query(tmp_path / "store.db", "SELECT * FROM deliveries")
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 3
    attempts = query(tmp_path / "store.db", "SELECT http_status, outcome FROM attempts")
    assert [(a["http_status"], a["outcome"]) for a in attempts] == [
        (500, "retry"),
        (500, "retry"),
        (200, "delivered"),
    ]
    # every attempt carried the same delivery id
    assert {r.header("Idempotency-Key") for r in recorder.to("/a")} == {delivery["id"]}


def test_bad_request_is_not_retried_and_keeps_the_reason(recorder, notify_cli, tmp_path):
    recorder.script(Answer(400, "field 'title' is not allowed here"), path="/a")
    config_two_channels(tmp_path, f"{recorder.url}/a", f"{recorder.url}/b")
    result = notify_cli("send", "-t", "bad", "--to", "first")
    assert result.returncode == 1
    assert len(recorder.to("/a")) == 1
    [delivery] = query(tmp_path / "store.db", "SELECT * FROM deliveries")
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == 1
    assert "field 'title' is not allowed here" in delivery["last_error"]
    assert "field 'title' is not allowed here" in result.stdout


def test_a_hanging_channel_does_not_delay_another(notify_cli, tmp_path):
    with RecordingServer() as slow, RecordingServer() as fast:
        slow.default = Answer(200, "late", delay=3)
        config_two_channels(tmp_path, f"{slow.url}/slow", f"{fast.url}/fast", timeout="0.5")
        # both channels take the message; the slow one times out and is retried later
        result = notify_cli("send", "-t", "both", "--wait", "0.8", "--json")
        arrived = fast.wait_for(1, timeout=0)
    out = json.loads(result.stdout)
    by_channel = {d["channel"]: d for d in out["deliveries"]}
    assert by_channel["second"]["status"] == "delivered"
    assert by_channel["first"]["status"] in ("pending", "sending", "failed")
    assert "timed out" in by_channel["first"]["reason"]
    assert len(arrived) == 1
    # the fast delivery finished before the slow one's first attempt gave up
    fast_done = query(
        tmp_path / "store.db",
        "SELECT started + duration AS done FROM attempts a JOIN deliveries d"
        " ON a.delivery_id = d.id WHERE d.channel = 'second'",
    )[0]["done"]
    slow_first = query(
        tmp_path / "store.db",
        "SELECT started, duration FROM attempts a JOIN deliveries d"
        " ON a.delivery_id = d.id WHERE d.channel = 'first' AND number = 1",
    )[0]
    assert fast_done < slow_first["started"] + slow_first["duration"]
    assert result.returncode == 1  # something is still pending at the deadline


def test_signed_webhook_verifies_with_standard_webhooks(recorder, notify_cli, tmp_path):
    write_config(
        tmp_path,
        f"""
[channels.signed]
provider = "webhook"
url = "{recorder.url}/signed"
settings = {{ secret = "${{SIGNING}}" }}
""",
    )
    result = notify_cli("send", "-t", "signed", "--to", "signed", env={"SIGNING": SIGNING_SECRET})
    assert result.returncode == 0, result.stderr
    [request] = recorder.requests
    verified = Webhook(SIGNING_SECRET).verify(request.body, request.headers)
    assert verified["title"] == "signed"
    assert request.header("webhook-id") == request.json()["id"]
    assert SIGNING_SECRET not in result.stdout + result.stderr
    assert SIGNING_SECRET.encode() not in stored_bytes(tmp_path / "notify.db")


def test_no_secret_reaches_the_store_or_the_terminal(recorder, notify_cli, tmp_path):
    write_config(
        tmp_path,
        f"""
[channels.secretive]
provider = "webhook"
url = "{recorder.url}/hooks/{SECRET_TOKEN}?apikey=QUERYSECRET99"
settings.headers = {{ "X-Api-Key" = "HEADERSECRET42" }}
settings.auth = {{ type = "bearer", token = "${{TOKEN}}" }}
""",
    )
    env = {"TOKEN": "BEARERSECRET77"}
    recorder.script(Answer(400, f"bad token BEARERSECRET77 for {SECRET_TOKEN}"))
    sent = notify_cli("send", "-t", "x", "--to", "secretive", env=env)
    dry = notify_cli("send", "-t", "x", "--to", "secretive", "--dry-run", env=env)
    as_json = notify_cli("send", "-t", "x", "--to", "secretive", "--json", env=env)
    assert recorder.requests[0].header("Authorization") == "Bearer BEARERSECRET77"
    assert recorder.requests[0].header("X-Api-Key") == "HEADERSECRET42"
    seen = "".join(r.stdout + r.stderr for r in (sent, dry, as_json))
    stored = stored_bytes(tmp_path / "notify.db")
    for secret in (SECRET_TOKEN, "QUERYSECRET99", "HEADERSECRET42", "BEARERSECRET77"):
        assert secret not in seen
        assert secret.encode() not in stored
    assert "bad token" in sent.stdout  # the reason is kept, masked
    assert json.loads(dry.stdout)[0]["payload"]["headers"]["Authorization"] == "****"


def test_adhoc_settings_reach_the_channel_and_secret_ones_stay_masked(
    recorder, notify_cli, tmp_path
):
    result = notify_cli(
        "send", "--url", f"{recorder.url}/hook", "--provider", "webhook", "-t", "Deployed",
        "--setting", "method=PUT", "--setting", "headers.X-Team=ml",
        "--setting", "auth.type=bearer", "--setting", "auth.token=BEARERSECRET77",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [request] = recorder.requests
    assert (request.method, request.header("X-Team")) == ("PUT", "ml")
    assert request.header("Authorization") == "Bearer BEARERSECRET77"
    assert "BEARERSECRET77" not in result.stdout + result.stderr
    assert b"BEARERSECRET77" not in stored_bytes(tmp_path / "notify.db")


def test_a_misspelt_adhoc_setting_is_refused_with_the_known_ones(recorder, notify_cli, tmp_path):
    result = notify_cli(
        "send", "--url", f"{recorder.url}/hook", "--provider", "webhook", "-t", "x",
        "--setting", "mehtod=PUT",
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        "notify: error: webhook settings: unknown key 'mehtod': did you mean 'method'? "
        "(known: method, headers, auth, secret, template)\n"
    )
    assert recorder.requests == []


def test_dry_run_shows_payload_and_stores_nothing(recorder, notify_cli, tmp_path):
    result = notify_cli(
        "send", "--url", f"{recorder.url}/x", "--provider", "webhook", "-t", "Dry", "--dry-run"
    )
    assert result.returncode == 0, result.stderr
    [planned] = json.loads(result.stdout)
    assert planned["provider"] == "webhook"
    assert planned["payload"]["body"]["title"] == "Dry"
    assert recorder.requests == []
    assert not (tmp_path / "notify.db").exists()


def test_body_from_stdin(recorder, notify_cli):
    result = notify_cli(
        "send",
        "--url",
        f"{recorder.url}/x",
        "--provider",
        "webhook",
        "-t",
        "T",
        "-b",
        "-",
        input="from a pipe\n",
    )
    assert result.returncode == 0, result.stderr
    assert recorder.requests[0].json()["body"] == "from a pipe\n"


@pytest.mark.parametrize(
    ("args", "config", "env", "expected"),
    [
        (["-t", "x", "--to", "a"], "[channels.a\nprovider=", {}, "invalid TOML"),
        (
            ["-t", "x", "--field", "novalue"],
            '[channels.a]\nprovider = "webhook"\nurl = "http://x"',
            {},
            "--field 'novalue': expected KEY=VALUE",
        ),
        (
            ["-t", "x", "--action", "View"],
            '[channels.a]\nprovider = "webhook"\nurl = "http://x"',
            {},
            "--action 'View': expected LABEL=URL",
        ),
        (
            ["-t", "x", "--to", "nope"],
            '[channels.a]\nprovider = "webhook"\nurl = "http://x"',
            {},
            "unknown channel 'nope'",
        ),
        (
            ["-t", "x", "--severity", "loud"],
            '[channels.a]\nprovider = "webhook"\nurl = "http://x"',
            {},
            "unknown severity 'loud'",
        ),
        (
            ["-t", "x", "--db", "/nonexistent/dir/n.db"],
            '[channels.a]\nprovider = "webhook"\nurl = "http://127.0.0.1:9/"',
            {},
            "cannot open database",
        ),
        (
            ["--to", "a"],
            '[channels.a]\nprovider = "webhook"\nurl = "http://x"',
            {},
            "--title/-t is required",
        ),
        (["-t", "x", "--bogus"], "", {}, "No such option: --bogus"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_stores_nothing(
    notify_cli, tmp_path, args, config, env, expected
):
    if config:
        write_config(tmp_path, config)
    result = notify_cli("send", *args, env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "notify.db").exists() or not query(
        tmp_path / "notify.db", "SELECT id FROM deliveries"
    )


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ('provider = "carrierpigeon"\nurl = "https://x.y/z"', "unknown provider 'carrierpigeon'"),
        ('provider = "webhook"\nurl = "ftp://x.y/z"', "channels.a.url: webhook url must look like"),
        (
            'provider = "webhook"\nurl = "${NOPE}"',
            "channels.a.url: environment variable NOPE is not set",
        ),
        (
            'provider = "webhook"\nurl = "http://x.y/"\nrate = { per_second = "fast" }',
            "channels.a.rate.per_second: expected a number, got 'fast'",
        ),
        (
            'provider = "webhook"\nurl = "http://x.y/"\n'
            'settings.template = { text = "{title} on {host}" }',
            "channels.a: webhook template: unknown template key 'host'",
        ),
    ],
)
def test_a_broken_channel_fails_its_own_delivery_and_the_others_go_out(
    notify_cli, tmp_path, recorder, broken, reason
):
    write_config(
        tmp_path,
        f'[channels.a]\n{broken}\n[channels.b]\nprovider = "webhook"\nurl = "{recorder.url}/b"\n',
    )
    result = notify_cli("send", "-t", "x", "--json")
    assert result.returncode == 1, result.stderr
    by_channel = {d["channel"]: d for d in json.loads(result.stdout)["deliveries"]}
    assert by_channel["b"]["status"] == "delivered"
    assert by_channel["a"]["status"] == "failed"
    assert reason in by_channel["a"]["reason"]
    assert len(recorder.requests) == 1
    # recorded, so that `notify retry` sends it once the configuration is fixed
    [row] = query(
        tmp_path / "notify.db", "SELECT status, last_error FROM deliveries WHERE channel = 'a'"
    )
    assert row["status"] == "failed" and reason in row["last_error"]


def test_a_broken_channel_not_in_the_send_does_not_matter(notify_cli, tmp_path, recorder):
    write_config(
        tmp_path,
        '[channels.slack]\nprovider = "webhook"\nurl = "${SLACK_WEBHOOK_URL}"\n'
        f'[channels.audit]\nprovider = "webhook"\nurl = "{recorder.url}/audit"\n',
    )
    result = notify_cli("send", "-t", "Backup done", "--to", "audit")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert len(recorder.requests) == 1


def test_garbage_answers_are_recorded_not_crashed_on(recorder, notify_cli, tmp_path):
    recorder.script(Answer(502, b"\x00\xff<html>" + b"x" * 100_000))
    recorder.script(Answer(200, "<html>surprise</html>"))
    write_config(
        tmp_path,
        f"""
[channels.a]
provider = "webhook"
url = "{recorder.url}/a"
retry = {{ attempts = 2, backoff = 0.01 }}
""",
    )
    result = notify_cli("send", "-t", "x", "--to", "a")
    assert result.returncode == 0, result.stderr
    attempts = query(tmp_path / "notify.db", "SELECT response FROM attempts ORDER BY number")
    assert len(attempts[0]["response"]) <= 2048
    assert attempts[1]["response"] == "<html>surprise</html>"


def test_plugins_lists_installed_providers(notify_cli):
    result = notify_cli("plugins", "--json")
    assert result.returncode == 0
    listed = {p["provider"]: p for p in json.loads(result.stdout)}
    assert listed["webhook"]["distribution"] == "notify-webhook"
    assert listed["webhook"]["version"]


def test_blocked_plugin_is_not_loaded(notify_cli):
    result = notify_cli("plugins", "--json", env={"NOTIFY_BLOCK_PLUGINS": "webhook"})
    assert "webhook" not in {p["provider"] for p in json.loads(result.stdout)}
