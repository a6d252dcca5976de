"""notify-email end to end: the real CLI in a subprocess, a real SMTP server, a real store.

The CLI finds the plugin through its entry point (``pip install -e plugins/notify_email``),
infers it from a ``mailto://`` URL, and sends to an aiosmtpd server on 127.0.0.1; a
plain local server is named with ``?mode=plain`` (plain is never guessed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from notify_core.testing import query, stored_bytes

USER = "alerts@example.com"  # the account conftest's servers accept
PASSWORD = "s3cr3t:p@ss/w0rd%?"
ENCODED = quote(PASSWORD, safe="")


def never_shown(tmp_path: Path, *results: Any) -> None:
    for result in results:
        assert PASSWORD not in result.stdout + result.stderr
        assert ENCODED not in result.stdout + result.stderr
    for db in tmp_path.glob("*.db"):
        data = stored_bytes(db)
        assert PASSWORD.encode() not in data and ENCODED.encode() not in data


def test_send_url_delivers_to_a_local_server(
    notify_cli: Any, mail_server: Any, tmp_path: Path
) -> None:
    server = mail_server()
    url = (
        f"mailto://127.0.0.1:{server.port}?mode=plain"
        "&to=ops@example.com,dev@example.com&from=alerts@example.com&name=Nightly%20Backup"
    )
    db = tmp_path / "n.db"
    result = notify_cli(
        "send", "--url", url, "-t", "Backup done", "-b", "42 GB in 3 min", "--db", str(db)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("delivered")
    assert "email" in result.stdout
    [received] = server.messages
    assert received.rcpt_tos == ("ops@example.com", "dev@example.com")
    msg = received.message
    assert msg["Subject"] == "[INFO] Backup done"
    assert msg["From"] == "Nightly Backup <alerts@example.com>"
    text, html = (p.get_content() for p in msg.iter_parts())
    assert "42 GB in 3 min" in text and "42 GB in 3 min" in html
    [row] = query(db, "SELECT status, provider FROM deliveries")
    assert row == {"status": "delivered", "provider": "email"}
    assert msg["Message-ID"].startswith("<")


def test_send_url_with_starttls_and_auth_never_shows_the_password(
    notify_cli: Any, mail_server: Any, tmp_path: Path
) -> None:
    server = mail_server(mode="starttls", auth=True)
    url = (
        f"mailto://alerts%40example.com:{ENCODED}@127.0.0.1:{server.port}"
        f"?to=ops@example.com&ca_file={server.ca_file}"
    )
    sent = notify_cli(
        "send", "--url", url, "-t", "Deploy failed", "-s", "error", "--db", str(tmp_path / "n.db")
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert server.messages[0].authenticated
    assert server.messages[0].message["Subject"] == "[ERROR] Deploy failed"
    never_shown(tmp_path, sent)


def test_dry_run_shows_the_whole_message_masked(notify_cli: Any, tmp_path: Path) -> None:
    url = (
        f"mailto://alerts%40example.com:{ENCODED}@smtp.example.com"
        "?to=ops@example.com&bcc=audit@example.com"
    )
    plan = notify_cli(
        "send", "--url", url, "-t", "Pipeline failed", "-b", "stage 3", "-s", "error", "--dry-run"
    )
    assert plan.returncode == 0, plan.stderr
    [planned] = json.loads(plan.stdout)
    assert planned["provider"] == "email"
    assert planned["target"] == (
        "smtp.example.com:587 starttls as alerts@example.com to ops@example.com (+1 bcc)"
    )
    body = planned["payload"]["body"]
    assert body["envelope"]["rcpt_to"] == ["ops@example.com", "audit@example.com"]
    assert body["subject"] == "[ERROR] Pipeline failed"
    mime = body["mime"]
    assert "Subject: [ERROR] Pipeline failed" in mime
    assert 'Content-Type: text/plain; charset="utf-8"' in mime
    assert 'Content-Type: text/html; charset="utf-8"' in mime
    assert "stage 3" in mime
    assert not any(line.startswith("Bcc:") for line in mime)
    never_shown(tmp_path, plan)
    assert not list(tmp_path.glob("*.db"))  # a dry run stores nothing


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_configured_channel_send_channels_and_check(
    notify_cli: Any, mail_server: Any, tmp_path: Path
) -> None:
    server = mail_server(mode="ssl", auth=True)
    (tmp_path / "notify.toml").write_text(
        f"""
[channels.mail]
provider = "email"
host = "127.0.0.1"
port = {server.port}
mode = "ssl"
ca_file = "{server.ca_file}"
username = "{USER}"
password = "${{SMTP_PASSWORD}}"
from = "Notify <alerts@example.com>"
to = ["ops@example.com"]
cc = "lead@example.com"
"""
    )
    env = {"SMTP_PASSWORD": PASSWORD}
    db = str(tmp_path / "n.db")
    sent = notify_cli(
        "send", "--to", "mail", "-t", "Disk full", "--dedup-key", "disk:db-1", "--db", db, env=env
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr
    resolved = notify_cli(
        "send", "--to", "mail", "-t", "Disk full", "--dedup-key", "disk:db-1",
        "--state", "resolve", "--db", db, env=env,
    )  # fmt: skip
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    first, second = (m.message for m in server.messages)
    assert second["Subject"] == "[RESOLVED] Disk full"
    assert first["References"] == second["References"]  # one conversation
    listed = notify_cli("channels", "--db", db, env=env)
    assert listed.returncode == 0, listed.stderr
    assert f"127.0.0.1:{server.port} ssl as {USER} to ops@example.com (+1 cc)" in listed.stdout
    checked = notify_cli("check", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    never_shown(tmp_path, sent, resolved, listed, checked)


def test_check_names_the_bad_key(notify_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "notify.toml").write_text(
        '[channels.mail]\nprovider = "email"\nhost = "smtp.example.com"\n'
        'from = "alerts@example.com"\nto = ["ops@example.com", "oops"]\n'
    )
    checked = notify_cli("check")
    assert checked.returncode == 2
    assert "channels.mail.to" in checked.stdout + checked.stderr
    assert "oops" in checked.stdout + checked.stderr


def test_a_refusal_fails_the_send_with_the_servers_reason(
    notify_cli: Any, mail_server: Any, tmp_path: Path
) -> None:
    server = mail_server()
    server.script("DATA", "550 5.7.1 mailbox unavailable")
    url = f"mailto://127.0.0.1:{server.port}?mode=plain&to=ops@example.com&from=a@example.com"
    result = notify_cli("send", "--url", url, "-t", "x", "--db", str(tmp_path / "n.db"))
    assert result.returncode == 1
    assert "SMTP 550: 5.7.1 mailbox unavailable" in result.stdout
    assert result.stdout.startswith("failed")
