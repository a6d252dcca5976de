"""What ``notify send`` is waiting for, on a terminal: a status line instead of silence.

An unreachable host is retried for seconds, a hanging one until its timeout: without
a word, a person at the terminal cannot tell a slow channel from a stuck command. The
line appears only after a moment (fast sends print nothing extra), only on a terminal,
never with ``--quiet``, and is erased before the results are printed.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loaded by the commands that use them, not for `notify --help`
    from .._results import Progress


#: Quiet this long first: a send that finishes sooner shows no status line at all.
QUIET_FOR = 0.5
EVERY = 0.25


class StatusLine:
    def __init__(self) -> None:

        self._lock = threading.Lock()
        self._state: dict[str, Progress] = {}
        self._since: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notify-status", daemon=True)
        self._shown = False

    def observe(self, progress: Progress) -> None:
        """Called from the event loop's thread as attempts start and end."""
        with self._lock:
            if progress.phase == "done":
                self._state.pop(progress.delivery_id, None)
            else:
                self._state[progress.delivery_id] = progress
                self._since[progress.delivery_id] = time.monotonic()

    def __enter__(self) -> StatusLine:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        if self._shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()

    def _run(self) -> None:
        if self._stop.wait(QUIET_FOR):
            return
        import shutil  # here, not at import: it loads the archivers, and a send may show no line

        while not self._stop.is_set():
            line = self.line()
            if line:
                width = shutil.get_terminal_size((80, 24)).columns - 1
                sys.stderr.write("\r\033[K" + line[:width])
                sys.stderr.flush()
                self._shown = True
            self._stop.wait(EVERY)

    def line(self) -> str:
        now, wall = time.monotonic(), time.time()
        with self._lock:
            parts = []
            for delivery_id, p in self._state.items():
                if p.phase == "attempt":
                    spent = now - self._since[delivery_id]
                    parts.append(f"{p.channel}: attempt {p.attempt}, waiting {spent:.0f}s")
                else:
                    wait = max(0.0, (p.next_attempt or wall) - wall)
                    parts.append(f"{p.channel}: retry in {wait:.0f}s ({p.reason[:60]})")
        return "waiting for " + " · ".join(parts) if parts else ""
