"""The console provider: the first command works anywhere, through the real pipeline."""

from __future__ import annotations

import json

from notify_core.testing import query


def test_the_readme_first_command_prints_and_is_logged(notify_cli, tmp_path):
    result = notify_cli(
        "send", "--url", "console://", "-t", "Training complete", "-b", "accuracy 0.97",
        "--field", "accuracy=0.97",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "── [INFO] Training complete" in result.stdout
    assert "  accuracy  0.97" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("delivered adhoc:console")
    [row] = json.loads(notify_cli("log", "--json").stdout)
    assert (row["channel"], row["status"], row["attempts"]) == ("adhoc:console", "delivered", 1)
    shown = json.loads(notify_cli("log", "show", row["id"], "--json").stdout)
    assert shown["attempts_log"][0]["reason"] == "printed on stdout"


def test_a_configured_console_channel_needs_no_url_and_can_use_stderr(notify_cli, tmp_path):
    (tmp_path / "notify.toml").write_text(
        '[channels.dev]\nprovider = "console"\n'
        '[channels.errors]\nprovider = "console"\nurl = "console://stderr"\n'
        'min_severity = "error"\n'
    )
    quiet = notify_cli("send", "-t", "fyi")
    assert quiet.returncode == 0
    assert "fyi" in quiet.stdout and "fyi" not in quiet.stderr
    loud = notify_cli("send", "-t", "boom", "-s", "error", "--event", "job.failed")
    assert "[ERROR] boom" in loud.stderr
    assert "event job.failed" in loud.stderr
    assert len(query(tmp_path / "notify.db", "SELECT id FROM deliveries")) == 3


def test_a_wrong_console_url_is_one_line(notify_cli):
    result = notify_cli("send", "--url", "console://printer", "-t", "x")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "notify: error: console url must be console://, console://stdout or console://stderr"
    )


def test_a_console_setting_is_refused_like_any_unknown_setting(notify_cli, tmp_path):
    """Every provider refuses a setting it does not know: a typo never passes silently."""
    (tmp_path / "notify.toml").write_text(
        '[channels.dev]\nprovider = "console"\nsettings = { stream = "stderr" }\n'
    )
    result = notify_cli("check")
    assert result.returncode != 0
    assert "console takes no settings (found 'stream')" in result.stderr + result.stdout
    assert "channels.dev.settings.stream" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
