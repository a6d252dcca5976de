"""``notify channels add/edit/remove/test/history/rotate-key``: the real CLI, a real store."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from notify_core.testing import RecordedRequest, RecordingServer, query

from .conftest import (
    AUTH_SECRET,
    URL_SECRET,
    Cli,
    assert_no_secret,
    hook_url,
    new_key,
    root_config,
)


def _path(request: RecordedRequest) -> str:
    return request.path.partition("?")[0]


def _add(cli: Cli, recorder: RecordingServer, *extra: str, path: str = "acme") -> None:
    added = cli(
        "channels",
        "add",
        "alerts",
        "--tenant",
        "acme",
        "--provider",
        "webhook",
        "--url",
        hook_url(recorder, path),
        "--events",
        "training.*",
        "--setting",
        "method=PUT",
        "--setting",
        "auth.type=bearer",
        "--setting",
        f"auth.token={AUTH_SECRET}",
        "--description",
        "acme's training alerts",
        "--actor",
        "alice",
        *extra,
    )
    assert added.returncode == 0, added.stderr
    assert "added stored channel acme/alerts: webhook → " in added.stdout
    assert "token=****" in added.stdout


def test_add_test_route_edit_and_remove_a_tenant_channel(
    cli: Cli, recorder: RecordingServer
) -> None:
    _add(cli, recorder)

    listed = json.loads(cli("channels", "--json").stdout)
    by_key = {(c["tenant"], c["channel"]): c for c in listed}
    assert by_key[("acme", "alerts")]["source"] == "stored"
    assert by_key[("acme", "alerts")]["events"] == ["training.*"]
    assert by_key[(None, "ops")]["source"] == "config"
    plain = cli("channels").stdout
    assert "stored" in plain and "acme" in plain

    tested = cli("channels", "test", "alerts", "--tenant", "acme", "--actor", "bob", "--wait", "10")
    assert tested.returncode == 0, tested.stderr
    assert tested.stdout.startswith("delivered: acme/alerts (webhook)")
    [test_request] = recorder.requests
    assert test_request.method == "PUT"  # the stored settings are the ones used
    assert test_request.path.partition("?")[0] == "/acme"
    assert test_request.header("authorization") == f"Bearer {AUTH_SECRET}"

    # an event for the tenant routes to its stored channel; the root's `ops` is not used
    sent = cli("send", "-t", "Training failed", "--event", "training.failed", "--tenant", "acme")
    assert sent.returncode == 0, sent.stderr
    assert [_path(r) for r in recorder.requests] == ["/acme", "/acme"]
    # a tenant without channels of its own falls back to the root ones
    assert cli("send", "-t", "x", "--event", "training.failed", "--tenant", "beta").returncode == 0
    assert _path(recorder.requests[-1]) == "/ops"

    edited = cli("channels", "edit", "alerts", "--tenant", "acme", "--events", "deploy.*")
    assert edited.returncode == 0, edited.stderr
    cli("send", "-t", "again", "--event", "training.failed", "--tenant", "acme")
    assert _path(recorder.requests[-1]) == "/ops"  # acme's channel no longer takes training.*

    removed = cli("channels", "remove", "alerts", "--tenant", "acme")
    assert removed.returncode == 2
    assert "pass --yes" in removed.stderr
    assert cli("channels", "remove", "alerts", "--tenant", "acme", "--yes").returncode == 0
    assert ("acme", "alerts") not in {
        (c["tenant"], c["channel"]) for c in json.loads(cli("channels", "--json").stdout)
    }

    history = json.loads(cli("channels", "history", "alerts", "--json").stdout)
    assert [h["action"] for h in history] == ["removed", "edited", "tested", "created"]
    assert history[-1]["actor"] == "alice"
    assert history[-2]["actor"] == "bob"
    assert history[-2]["detail"].startswith("delivered after 1 attempt(s)")
    assert history[1]["detail"] == "changed events"
    assert "acme" in cli("channels", "history").stdout

    assert_no_secret(cli.stored())
    assert not query(cli.db, "SELECT * FROM stored_channels")


def test_the_database_never_holds_a_stored_secret(cli: Cli, recorder: RecordingServer) -> None:
    _add(cli, recorder)
    cli("send", "-t", "Training failed", "--event", "training.failed", "--tenant", "acme")
    assert recorder.requests, "delivered"
    data = cli.stored()  # the file, its WAL and shared memory
    assert_no_secret(data)
    [row] = query(cli.db, "SELECT spec, secrets, target FROM stored_channels")
    spec = json.loads(str(row["spec"]))
    assert "url" not in spec and "settings" not in spec
    assert spec["events"] == ["training.*"]
    assert str(row["secrets"]).startswith("gAAAAA")  # a Fernet token
    # the deliveries' rows are masked as a configured channel's are
    for delivery in query(cli.db, "SELECT target, message, payload FROM deliveries"):
        assert_no_secret(json.dumps(delivery))


def test_a_pg_dump_of_a_postgres_store_holds_no_stored_secret(
    tmp_path, key: str, recorder: RecordingServer, postgres_server, postgres_url
) -> None:
    """What a backup of the database holds: the stored channel's row, its secrets only as
    a Fernet token; no secret in clear, not in the deliveries' rows either."""
    cli = Cli(tmp_path, key, db=postgres_url)
    cli.config.write_text(root_config(recorder))
    _add(cli, recorder)
    sent = cli("send", "-t", "Training failed", "--event", "training.failed", "--tenant", "acme")
    assert sent.returncode == 0, sent.stderr
    assert [_path(r) for r in recorder.requests] == ["/acme"]
    assert AUTH_SECRET in recorder.requests[0].headers["Authorization"]  # it was used
    dump = postgres_server.dump(urlsplit(postgres_url).path.lstrip("/"))
    assert b"COPY public.stored_channels" in dump and b"acme's training alerts" in dump
    assert b"\tgAAAAA" in dump  # the secrets column: a Fernet token
    assert b"COPY public.deliveries" in dump and b"Training failed" in dump
    assert_no_secret(dump, *cli.outputs)


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        pytest.param(
            ["--provider", "slack", "--url", "https://hooks.slack.com/nope"],
            {},
            "tenants.acme.channels.bad.url: slack url must look like https://hooks.slack.com/",
            id="bad-url",
        ),
        pytest.param(
            ["--provider", "slak", "--url", "https://example.com/h"],
            {},
            "tenants.acme.channels.bad.provider: unknown provider 'slak': did you mean 'slack'?",
            id="unknown-provider",
        ),
        pytest.param(
            [
                "--provider",
                "webhook",
                "--url",
                "https://example.com/h",
                "--events",
                "traning.failed",
            ],
            {},
            "'traning.failed' matches no configured event template (did you mean "
            "'training.failed'?",
            id="unknown-event",
        ),
        pytest.param(
            ["--provider", "webhook", "--url", "https://example.com/h", "--setting", "mehtod=PUT"],
            {},
            "tenants.acme.channels.bad.settings.mehtod",
            id="unknown-setting",
        ),
        pytest.param(
            ["--provider", "webhook", "--url", "https://example.com/h", "--rate", "0"],
            {},
            "tenants.acme.channels.bad.rate.per_second: must be greater than 0",
            id="bad-rate",
        ),
        pytest.param(
            ["--provider", "webhook", "--url", f"https://example.com/h?token={URL_SECRET}"],
            {"NOTIFY_SECRET_KEY": ""},
            "NOTIFY_SECRET_KEY is not set: stored channels hold encrypted secrets",
            id="missing-key",
        ),
        pytest.param(
            ["--provider", "webhook", "--url", f"https://example.com/h?token={URL_SECRET}"],
            {"NOTIFY_SECRET_KEY": "not-a-key"},
            "NOTIFY_SECRET_KEY is not a valid key",
            id="malformed-key",
        ),
    ],
)
def test_bad_input_is_one_clear_line_and_nothing_is_saved(
    cli: Cli, args: list[str], env: dict[str, str], expected: str
) -> None:
    result = cli("channels", "add", "bad", "--tenant", "acme", *args, env=env)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("notify: error: ")
    assert expected in line
    assert "not-a-key" not in line
    # validation comes before the store is even opened: nothing half-saved, not even a file
    assert not cli.db.exists()


def test_globs_and_unknown_events_when_asked_for_are_allowed(cli: Cli) -> None:
    url = "https://example.com/h"
    base = ["channels", "add", "--provider", "webhook", "--url", url]
    assert cli(*base[:2], "globbed", *base[2:], "--events", "anything.*").returncode == 0
    loose = cli(*base[:2], "loose", *base[2:], "--events", "backup.done", "--allow-unknown-events")
    assert loose.returncode == 0, loose.stderr


def test_configured_channels_are_read_only(cli: Cli) -> None:
    clash = cli("channels", "add", "ops", "--provider", "webhook", "--url", "https://example.com/h")
    assert clash.returncode == 2
    assert "channel 'ops' is a configured channel" in clash.stderr
    edit = cli("channels", "edit", "ops", "--events", "x.*")
    assert edit.returncode == 2
    assert "channel 'ops' is configured, not stored" in edit.stderr
    # the same name is free in another scope: a tenant may have its own `ops`
    own = cli(
        "channels", "add", "ops", "--tenant", "acme", "--provider", "webhook", "--url",
        "https://example.com/h",
    )  # fmt: skip
    assert own.returncode == 0, own.stderr
    again = cli(
        "channels", "add", "ops", "--tenant", "acme", "--provider", "webhook", "--url",
        "https://example.com/h",
    )  # fmt: skip
    assert again.returncode == 2
    assert "exists already" in again.stderr


def test_a_wrong_or_missing_key_fails_only_stored_channels(
    cli: Cli, recorder: RecordingServer
) -> None:
    _add(cli, recorder)
    wrong = cli(
        "send", "-t", "x", "--event", "training.failed", "--tenant", "acme", "--json",
        env={"NOTIFY_SECRET_KEY": new_key()},
    )  # fmt: skip
    assert wrong.returncode == 1
    [delivery] = json.loads(wrong.stdout)["deliveries"]
    assert delivery["status"] == "failed"
    assert (
        "cannot decrypt stored channel 'acme/alerts' with NOTIFY_SECRET_KEY or "
        "NOTIFY_SECRET_KEYS_OLD" in delivery["reason"]
    )
    missing = cli("send", "-t", "x", "--to", "ops", "--json", env={"NOTIFY_SECRET_KEY": ""})
    assert missing.returncode == 0, missing.stderr  # configured channels keep working
    assert _path(recorder.requests[-1]) == "/ops"
    broken = cli(
        "send", "-t", "x", "--event", "training.failed", "--tenant", "acme", "--json",
        env={"NOTIFY_SECRET_KEY": ""},
    )  # fmt: skip
    [delivery] = json.loads(broken.stdout)["deliveries"]
    assert delivery["status"] == "failed"
    assert "NOTIFY_SECRET_KEY is not set" in delivery["reason"]
    listed = cli("channels", env={"NOTIFY_SECRET_KEY": ""})
    assert "INVALID: NOTIFY_SECRET_KEY is not set" in listed.stdout
    # the failed deliveries go out once the key is back
    failed = [d for d in json.loads(cli("log", "--json").stdout) if d["status"] == "failed"]
    assert len(failed) == 2
    retried = cli("retry", *(d["id"] for d in failed))
    assert retried.returncode == 0, retried.stderr
    assert [_path(r) for r in recorder.requests[-2:]] == ["/acme", "/acme"]


def test_rotating_the_key_keeps_old_channels_working(cli: Cli, recorder: RecordingServer) -> None:
    old = cli.env["NOTIFY_SECRET_KEY"]
    _add(cli, recorder)
    new = new_key()
    # with the new key alone, the old channel cannot be opened: the rotation refuses
    refused = cli("channels", "rotate-key", env={"NOTIFY_SECRET_KEY": new})
    assert refused.returncode == 2
    assert "cannot decrypt stored channel 'acme/alerts'" in refused.stderr
    # with the old key among the old ones, the channel works before and after rotation
    both = {"NOTIFY_SECRET_KEY": new, "NOTIFY_SECRET_KEYS_OLD": f"{new_key()}, {old}"}
    assert cli("channels", "test", "alerts", "--tenant", "acme", env=both).returncode == 0
    rotated = cli("channels", "rotate-key", "--json", env=both)
    assert rotated.returncode == 0, rotated.stderr
    assert json.loads(rotated.stdout) == {"reencrypted": 1, "channels": 1}
    assert json.loads(cli("channels", "rotate-key", "--json", env=both).stdout) == {
        "reencrypted": 0,
        "channels": 1,
    }
    tested = cli("channels", "test", "alerts", "--tenant", "acme", env={"NOTIFY_SECRET_KEY": new})
    assert tested.returncode == 0, tested.stderr
    assert len(recorder.requests) == 2
    stale = cli("channels", "test", "alerts", "--tenant", "acme", env={"NOTIFY_SECRET_KEY": old})
    assert stale.returncode != 0
    history = json.loads(cli("channels", "history", "--json").stdout)
    assert "rekeyed" in [h["action"] for h in history]
    assert_no_secret(cli.stored())
    assert old not in "".join(cli.outputs) and new not in "".join(cli.outputs)


def test_url_from_standard_input_stays_out_of_the_command_line(
    cli: Cli, recorder: RecordingServer
) -> None:
    added = cli(
        "channels", "add", "piped", "--provider", "webhook", "--url", "-", "--json",
        input=hook_url(recorder, "piped") + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    view = json.loads(added.stdout)
    assert "/piped?token=****" in view["target"]
    assert view["stored"] is True and view["tenant"] is None
    assert cli("channels", "test", "piped").returncode == 0
    assert _path(recorder.requests[-1]) == "/piped"
    assert URL_SECRET in recorder.requests[-1].path
