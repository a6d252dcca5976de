"""What the core's start-up tests share."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def loaded_modules(tmp_path: Path) -> Callable[..., set[str]]:
    """``loaded_modules(*argv)``: ``sys.modules`` after ``notify ARGV`` exited 0.

    In a fresh interpreter, in ``tmp_path`` (so a ``notify.toml`` written there is read).
    """

    def run(*argv: str) -> set[str]:
        code = textwrap.dedent(
            f"""
            import contextlib, io, json, sys
            from notify_core._cli import main
            with contextlib.redirect_stdout(io.StringIO()):
                code = main({list(argv)!r})
            assert code == 0, code
            print(json.dumps(sorted(sys.modules)))
            """
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
        )
        assert proc.returncode == 0, proc.stderr
        return set(json.loads(proc.stdout.splitlines()[-1]))

    return run
