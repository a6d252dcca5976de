"""Run the real CLI on a pseudo-terminal: what a person at a terminal sees (colours, widths)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios
from collections.abc import Mapping

from ._cli import _CLI, CliResult


def run_notify_tty(
    *args: str,
    cwd: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    columns: int = 80,
    timeout: float = 60,
    answer: str | None = None,
) -> CliResult:
    """``notify ARGS`` with stdout and stderr on one terminal ``columns`` wide.

    A terminal has one output stream, so everything lands in ``stdout`` (with ``\\r\\n``
    line ends turned back into ``\\n``); ``stderr`` is empty. ``answer`` is typed at the
    terminal as soon as the command starts (a reply to a question it asks).
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}
    base.pop("NO_COLOR", None)
    base.update({"TERM": "xterm-256color", "COLUMNS": str(columns), **(env or {})})
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen(
        [*_CLI, *args], cwd=cwd, env=base, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    if answer is not None:
        os.write(master, answer.encode())
    chunks: list[bytes] = []
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=timeout)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    text = b"".join(chunks).decode("utf-8", errors="replace").replace("\r\n", "\n")
    return CliResult(code, text, "")
