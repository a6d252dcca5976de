"""``notify plugin new``: the generated skeleton passes the contract suite untouched.

The skeleton's tests run in a subprocess, as its author would run them, with only its
``src`` on ``PYTHONPATH``: the contract registers the plugin module itself, so nothing is
pip-installed and no entry point is read.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from notify_core._cli import main


def generate(tmp_path: Path, name: str = "acme-chat") -> Path:
    assert main(["plugin", "new", name, "--dir", str(tmp_path)]) == 0
    return tmp_path / ("notify_" + name.replace("-", "_"))


def test_the_skeleton_has_the_files_of_a_distribution(tmp_path: Path, capsys) -> None:
    root = generate(tmp_path)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "src/notify_acme_chat/__init__.py",
        "src/notify_acme_chat/py.typed",
        "tests/_examples.py",
        "tests/test_contract.py",
        "tests/test_payload.py",
    ]
    pyproject = (root / "pyproject.toml").read_text()
    assert 'name = "notify-acme-chat"' in pyproject
    assert '[project.entry-points."notify_core.providers"]\nacme-chat = "notify_acme_chat"' in (
        pyproject
    )
    assert 'dependencies = ["notify-core>=' in pyproject
    assert f"created {root}" in capsys.readouterr().out


def test_the_generated_plugin_passes_the_contract_as_generated(tmp_path: Path) -> None:
    root = generate(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root / "src"), env.get("PYTHONPATH")]))
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the skeleton asks for the kit itself
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the whole contract, and the payload tests that share its constants (tests/_examples.py)
    assert "17 passed" in proc.stdout, proc.stdout


@pytest.mark.parametrize("name", ["Discord", "1chat", "a--b", "chat!", "core"])
def test_bad_names_are_one_line_errors(tmp_path: Path, capsys, name: str) -> None:
    assert main(["plugin", "new", name, "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("notify: error: plugin name") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_an_existing_directory_is_not_overwritten(tmp_path: Path, capsys) -> None:
    root = generate(tmp_path)
    (root / "README.md").write_text("mine")
    assert main(["plugin", "new", "acme-chat", "--dir", str(tmp_path)]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert (root / "README.md").read_text() == "mine"
