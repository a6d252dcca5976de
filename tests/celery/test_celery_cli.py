"""The CLI and the library with ``executor = "celery"``, no worker needed: what is refused,
what is stored when the broker is down, and what never shows a secret.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from notify_core import ConfigError, Message, Notifier, Providers, parse_config
from notify_core.testing import query, run_notify, stored_bytes
from notify_core.testing._services import free_port

from .conftest import require_celery

PASSWORD = "s3cr3t-broker-pw"


def write(tmp_path: Path, celery: str, *, url: str = "http://127.0.0.1:9/hook") -> Path:
    path = tmp_path / "notify.toml"
    path.write_text(f"""
[notify]
db = "notify.db"
executor = "celery"

[celery]
{celery}

[channels.ops]
provider = "webhook"
url = "{url}"
""")
    return path


@pytest.fixture(autouse=True)
def _celery_installed() -> None:
    require_celery()


@pytest.mark.parametrize(
    ("celery", "expected"),
    [
        ('brokr = "redis://x"', "celery.brokr: unknown key; known keys: broker, app, queue"),
        ('queue = "notify"', "celery.broker: missing: give the broker URL"),
        ('broker = "localhost"', "celery.broker: expected a broker URL"),
        ('broker = "redis://h"\nsweep_every = "soon"', "celery.sweep_every: expected a duration"),
        ('app = "not a path"', "celery.app: expected module:attribute"),
    ],
)
def test_notify_check_names_the_celery_key(tmp_path, celery, expected):
    write(tmp_path, celery)
    out = run_notify("check", cwd=tmp_path)
    assert out.returncode == 2
    assert expected in out.stderr
    assert "Traceback" not in out.stderr


def test_a_celery_table_without_the_executor_says_what_goes_with_it(tmp_path):
    (tmp_path / "notify.toml").write_text('[celery]\nbroker = "redis://h"\n')
    out = run_notify("check", cwd=tmp_path)
    assert out.returncode == 2
    assert 'a [celery] table goes with [notify] executor = "celery"' in out.stderr


def test_a_send_while_the_broker_is_down_is_stored_and_reported_queued(tmp_path):
    down = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"
    write(tmp_path, f'broker = "{down}"')
    out = run_notify("send", "-t", "broker down", "--to", "ops", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "pending   ops  webhook  0 attempts  queued" in out.stdout
    assert "stored but not published" in out.stderr  # one line, for the operator
    assert "the sweep publishes them" in out.stderr
    assert PASSWORD not in out.stdout + out.stderr
    rows = query(tmp_path / "notify.db", "SELECT status, lease_owner FROM deliveries")
    assert rows == [{"status": "pending", "lease_owner": None}]  # for the sweep to publish
    assert PASSWORD.encode() not in stored_bytes(tmp_path / "notify.db")


def test_an_ad_hoc_url_is_sent_from_the_cli_not_queued(recorder, tmp_path):
    write(tmp_path, 'broker = "redis://127.0.0.1:9/0"')
    out = run_notify(
        "send", "-t", "direct", "--url", f"{recorder.url}/adhoc", "--provider", "webhook",
        cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("delivered")
    assert [r.path for r in recorder.requests] == ["/adhoc"]


def test_notify_test_sends_from_the_cli_to_show_the_answer(recorder, tmp_path):
    write(tmp_path, 'broker = "redis://127.0.0.1:9/0"', url=f"{recorder.url}/hook")
    out = run_notify("test", "ops", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert [r.path for r in recorder.requests] == ["/hook"]


def test_the_library_refuses_to_queue_an_ad_hoc_target(tmp_path):
    from notify_core import adhoc_channel

    config = parse_config(
        {"notify": {"executor": "celery"}, "celery": {"broker": "redis://127.0.0.1:9/0"}},
        Providers.discover(),
        env={},
    )
    with Notifier(config=config, db=tmp_path / "n.db", env={}) as n:
        target = adhoc_channel("http://127.0.0.1:9/x", "webhook")
        with pytest.raises(Exception, match="cannot be handed to Celery"):
            n.send(Message(title="x"), to=[target])
    assert query(tmp_path / "n.db", "SELECT COUNT(*) AS n FROM deliveries") == [{"n": 0}]


def test_settings_repr_masks_the_broker_password():
    from notify_celery import CelerySettings

    settings = CelerySettings.read({"broker": f"redis://:{PASSWORD}@127.0.0.1:6379/0"})
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in settings.masked_broker


def test_the_celery_executor_needs_its_executor_name():
    from notify_celery import CelerySettings

    config = parse_config({}, Providers.discover(), env={})
    with pytest.raises(ConfigError, match=r"notify\.executor: notify_celery needs executor"):
        CelerySettings.from_config(config)


def test_an_executor_that_is_not_installed_is_one_line_exit_2_and_stores_nothing(tmp_path):
    (tmp_path / "notify.toml").write_text(
        '[notify]\nexecutor = "rq"\n[channels.ops]\nprovider = "webhook"\nurl = "http://127.0.0.1:9/x"\n'
    )
    out = run_notify("send", "-t", "x", "--to", "ops", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "notify: error: notify.toml: notify.executor: no executor 'rq' is installed; "
        "known: local, celery"
    ]
    assert not (tmp_path / "notify.db").exists()


def test_a_worker_with_a_bad_celery_table_says_so_in_one_line(tmp_path):
    write(tmp_path, 'queue = "notify"')
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}
    worker = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "notify_celery.app", "worker"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode != 0
    assert worker.stderr.strip().splitlines() == [
        "notify_celery: notify.toml: celery.broker: missing: give the broker URL (redis://…), "
        "or name your application's Celery app with celery.app"
    ]


def test_an_app_that_cannot_be_imported_is_refused_before_anything_is_stored(tmp_path):
    write(tmp_path, 'app = "nowhere.celery:app"')
    out = run_notify("send", "-t", "x", "--to", "ops", cwd=tmp_path)
    assert out.returncode == 2
    assert "celery.app: cannot import 'nowhere.celery:app'" in out.stderr
    assert "Traceback" not in out.stderr
    assert query(tmp_path / "notify.db", "SELECT COUNT(*) AS n FROM deliveries") == [{"n": 0}]
