"""Real Celery workers and beat, started by the tests, against a real Redis broker.

A :class:`Fleet` is one notify configuration (``executor = "celery"``, a SQLite store, a
Redis broker and limiter) with the worker and beat processes started for it, the way
production runs them: ``python -m celery -A notify_celery.app worker`` in subprocesses,
each in its own process group so a test can SIGKILL a worker with its pool children.
Nothing runs in eager mode. Starting a worker takes about a second, so modules share one
fleet where their tests can.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import itertools
import os
import signal
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_client

from notify_core import Notifier
from notify_core.testing import RedisServer, ServerFailed, ServerNotFound, query

CELERY_HINT = "celery is not installed: pip install ./integrations/notify_celery"
_ENV = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFY_")}
_databases = itertools.count(1)
#: every process a test started: they run in sessions of their own, so an interrupted
#: pytest would leave them behind without this
_started: weakref.WeakSet[CeleryProcess] = weakref.WeakSet()


@atexit.register
def _kill_leftovers() -> None:
    for process in list(_started):
        if process.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.proc.pid, signal.SIGKILL)


def require_celery() -> None:
    """Fail (never skip) with the install hint when Celery or notify-celery is missing."""
    for module in ("celery", "notify_celery"):
        if importlib.util.find_spec(module) is None:
            pytest.fail(CELERY_HINT, pytrace=False)


def started(server: RedisServer) -> RedisServer:
    try:
        return server.start()
    except (ServerNotFound, ServerFailed) as exc:
        pytest.fail(str(exc), pytrace=False)


def wait_until(check: Callable[[], Any], *, timeout: float = 60.0, what: str = "it") -> Any:
    """Poll ``check`` until it returns something true; fail saying ``what`` never came."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:g}s for {what}", pytrace=False)
        time.sleep(0.05)


class CeleryProcess:
    """One ``celery`` command (a worker or beat) in its own process group, logging to a file."""

    def __init__(self, argv: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.argv = argv
        self.log = log
        self.cwd = cwd
        self.env = env
        #: set by :meth:`kill` and :meth:`terminate`: an exit the test asked for
        self.stopped = False
        self.restarts = 0
        self._spawn()
        _started.add(self)

    def _spawn(self) -> None:
        self._file = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the pool's children die with it
        )

    def supervise(self) -> None:
        """Start it again if it exited unasked, as systemd's ``Restart=always`` would.

        kombu's Redis transport can stop a worker with "Unrecoverable error" when the
        broker goes away mid-read (seen with kombu 5.7); production runs workers under
        a supervisor for that reason, and so do these tests.
        """
        if not self.stopped and self.proc.poll() is not None:
            self._file.close()
            self.restarts += 1
            self._spawn()

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_line(self, marker: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.text():
            if self.proc.poll() is not None:
                pytest.fail(
                    f"{self.argv[3:5]} exited {self.proc.returncode}:\n{self.text()[-2000:]}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(f"no {marker!r} from celery:\n{self.text()[-2000:]}", pytrace=False)
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL the whole group: the worker and its pool, mid-task."""
        self.stopped = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._file.close()

    def terminate(self) -> None:
        self.stopped = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)

    def wait(self, timeout: float = 15.0) -> None:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._file.close()


class Fleet:
    """A notify configuration for Celery and the processes that serve it.

    ``channels`` is the TOML of the channels; the ``[notify]`` and ``[celery]`` tables are
    written here: a SQLite store in ``directory``, the broker and the limiter on two
    databases of ``redis`` (numbered apart from other fleets), short leases and sweeps.
    """

    def __init__(
        self,
        directory: Path,
        redis: RedisServer,
        channels: str,
        *,
        queue: str = "notify",
        lease: str = "3s",
        sweep_every: str = "0.5s",
        sweep_after: str = "2s",
        max_pace_wait: str = "1s",
    ) -> None:
        require_celery()
        self.directory = directory
        self.redis = redis
        number = next(_databases) % 7 + 1  # Redis has 16 databases: 2-15, two a fleet
        base = redis.url.rsplit("/", 1)[0]
        self.broker = f"{base}/{2 * number}"
        self.limiter = f"{base}/{2 * number + 1}"
        for url in (self.broker, self.limiter):  # what an earlier fleet left there
            with redis_client.Redis.from_url(url) as client:
                client.flushdb()
        self.db = directory / "notify.db"
        self.config = directory / "notify.toml"
        self.config.write_text(
            f"""
[notify]
db = "notify.db"
executor = "celery"
limiter = "{self.limiter}"
lease = "{lease}"

[celery]
broker = "{self.broker}"
queue = "{queue}"
sweep_every = "{sweep_every}"
sweep_after = "{sweep_after}"
max_pace_wait = "{max_pace_wait}"

{channels}
"""
        )
        self.queue = queue
        self.env = {**_ENV, "NOTIFY_CONFIG": str(self.config)}
        self.processes: list[CeleryProcess] = []
        self.workers: list[CeleryProcess] = []
        self._names = itertools.count(1)

    def _celery(self, *args: str, log: str, app: str = "notify_celery.app") -> CeleryProcess:
        argv = [sys.executable, "-m", "celery", "-A", app, *args]
        process = CeleryProcess(argv, cwd=self.directory, env=self.env, log=self.directory / log)
        self.processes.append(process)
        return process

    def worker(
        self,
        *,
        pool: str = "prefork",
        concurrency: int = 2,
        app: str = "notify_celery.app",
        wait: bool = True,
    ) -> CeleryProcess:
        """A started worker (``-c concurrency --pool pool``), ready to take tasks.

        ``wait=False`` returns at once (start several, then :meth:`ready` them).
        """
        name = f"w{next(self._names)}"
        worker = self._celery(
            "worker",
            "--pool",
            pool,
            "-c",
            str(concurrency),
            "-Q",
            self.queue,
            "-n",
            f"{name}@%h",
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            log=f"{name}.log",
            app=app,
        )
        self.workers.append(worker)
        if wait:
            worker.wait_for_line(" ready.")
        return worker

    def beat(self, *, wait: bool = True) -> CeleryProcess:
        """A started beat, publishing the sweep every ``sweep_every``."""
        beat = self._celery(
            "beat", "-s", str(self.directory / "beat-schedule"), "-l", "info", log="beat.log"
        )
        if wait:
            beat.wait_for_line("beat: Starting")
        return beat

    def start(self, workers: int = 1, *, beat: bool = True, **options: Any) -> None:
        """Start ``workers`` workers (and beat) at once; return when all are ready."""
        started = [self.worker(wait=False, **options) for _ in range(workers)]
        scheduler = self.beat(wait=False) if beat else None
        for worker in started:
            worker.wait_for_line(" ready.")
        if scheduler is not None:
            scheduler.wait_for_line("beat: Starting")

    def notifier(self, **kwargs: Any) -> Notifier:
        """The host application's side: ``send``/``emit`` store and publish."""
        return Notifier.from_config(self.config, env={}, **kwargs)

    def rows(self, ids: list[str] | None = None) -> list[dict[str, Any]]:
        rows = query(self.db, "SELECT * FROM deliveries ORDER BY id")
        return rows if ids is None else [r for r in rows if r["id"] in set(ids)]

    def settled(self, ids: list[str]) -> list[dict[str, Any]] | None:
        """The rows of ``ids`` once none is pending or sending any more."""
        for process in self.processes:
            process.supervise()
        rows = self.rows(ids)
        done = len(rows) == len(ids) and all(
            r["status"] in ("delivered", "failed", "skipped") for r in rows
        )
        return rows if done else None

    def wait_settled(self, ids: list[str], timeout: float = 60.0) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = wait_until(
            lambda: self.settled(ids), timeout=timeout, what=f"{len(ids)} deliveries to settle"
        )
        return found

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait()
        self.processes.clear()
        self.workers.clear()

    def logs(self) -> str:
        """Every worker's log so far."""
        return "".join(w.text() for w in self.workers)

    @property
    def restarts(self) -> int:
        """How often the supervisor started a process again."""
        return sum(p.restarts for p in self.processes)


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, for tests that restart it."""
    server = started(RedisServer(base_dir=tmp_path))
    yield server
    server.close()
