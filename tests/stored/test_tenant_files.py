"""``[notify] tenants_dir``: ``configs/<tenant>/notify.toml`` as a tenant's channels.

One long-lived Notifier (as a worker or ``notify serve`` holds one) routes every message;
the files change under it and it follows: present, missing, disabled, edited, broken.
"""

from __future__ import annotations

import os
from pathlib import Path

from notify_core import Notifier
from notify_core.testing import RecordingServer

from .conftest import root_config


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    # a new mtime whatever the filesystem's resolution: edits in one test come fast
    stamp = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


def _tenant_file(recorder: RecordingServer, path: str, *, enabled: bool | None = None) -> str:
    head = f"[tenant]\nenabled = {'true' if enabled else 'false'}\n" if enabled is not None else ""
    return head + "\n".join(
        [
            "[channels.own]",
            'provider = "webhook"',
            f'url = "{recorder.url}/{path}?token=${{TENANT_TOKEN}}"',
            'events = ["training.*"]',
        ]
    )


def test_tenant_files_present_missing_disabled_edited_and_broken(
    tmp_path: Path, recorder: RecordingServer
) -> None:
    config = tmp_path / "notify.toml"
    config.write_text(
        root_config(recorder).replace(
            "[channels.ops]", '[notify]\ntenants_dir = "configs"\n\n[channels.ops]'
        )
    )
    configs = tmp_path / "configs"
    _write(configs / "acme" / "notify.toml", _tenant_file(recorder, "acme-v1"))
    _write(configs / "gamma" / "notify.toml", _tenant_file(recorder, "gamma", enabled=False))
    env = {"TENANT_TOKEN": "tenanttoken0123456789"}

    def paths() -> list[str]:
        return [r.path.partition("?")[0] for r in recorder.requests]

    with Notifier.from_config(config, db=tmp_path / "notify.db", env=env, wait=10) as notifier:

        def emit(tenant: str) -> str:
            result = notifier.emit("training.failed", {"experiment": "e1"}, tenant=tenant)
            [delivery] = result.deliveries
            return f"{delivery.status} {delivery.channel}"

        assert emit("acme") == "delivered own"  # present: the file's channel
        assert emit("beta") == "delivered ops"  # missing: the root's
        assert emit("gamma") == "delivered ops"  # [tenant] enabled = false: the root's
        assert paths() == ["/acme-v1", "/ops", "/ops"]
        assert recorder.requests[0].path.endswith("token=tenanttoken0123456789")  # ${VAR} read

        # edited while running: the next message goes where the file now says
        _write(configs / "acme" / "notify.toml", _tenant_file(recorder, "acme-v2"))
        _write(configs / "gamma" / "notify.toml", _tenant_file(recorder, "gamma", enabled=True))
        _write(configs / "beta" / "notify.toml", _tenant_file(recorder, "beta"))
        assert emit("acme") == "delivered own"
        assert emit("gamma") == "delivered own"
        assert emit("beta") == "delivered own"
        assert paths()[3:] == ["/acme-v2", "/gamma", "/beta"]

        # a file that cannot be read is not a fallback: the tenant's messages fail, saying why
        _write(configs / "acme" / "notify.toml", "[channels.own\nprovider = ")
        result = notifier.emit("training.failed", {"experiment": "e1"}, tenant="acme")
        [delivery] = result.deliveries
        assert delivery.status == "failed"
        assert "configs/acme/notify.toml: invalid TOML" in delivery.reason
        # removed: back to the root's
        (configs / "acme" / "notify.toml").unlink()
        assert emit("acme") == "delivered ops"

        listed = {(c.tenant, c.name) for c in notifier.all_channels()}
        assert {(None, "ops"), ("gamma", "own"), ("beta", "own")} <= listed

        # a tenant name is never a path
        assert notifier.channels("../configs/beta")[0].name == "ops"


def test_an_unknown_key_in_a_tenant_file_names_the_file_and_key(
    tmp_path: Path, recorder: RecordingServer
) -> None:
    config = tmp_path / "notify.toml"
    config.write_text('[notify]\ntenants_dir = "configs"\n' + root_config(recorder))
    _write(tmp_path / "configs" / "acme" / "notify.toml", "[tenant]\nenabeld = false\n")
    with Notifier.from_config(config, db=tmp_path / "notify.db", wait=10) as notifier:
        [channel] = notifier.channels("acme")
        assert channel.problem is not None
        assert "configs/acme/notify.toml: tenant.enabeld: unknown key" in channel.problem
