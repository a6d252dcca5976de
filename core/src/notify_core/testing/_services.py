"""Real PostgreSQL and Redis servers for tests: throw-away, on loopback, started in well under 2 s.

Why real servers and not fakes: what the store and the shared rate limiter must get right
(transactions, locks, Lua scripts, reconnecting after a restart) is exactly what a fake
gets wrong. Both servers live in a temporary directory, listen on a free 127.0.0.1 port,
keep nothing durable and are removed by :meth:`close` (or at interpreter exit).

A missing binary is an error, never a skip: a test suite that silently skips its database
tests passes on a machine that cannot run them. :class:`ServerNotFound` carries one line
with the install hint.

PostgreSQL refuses to run as root (``initdb`` and ``postgres`` both check), and CI runs as
root; then the server commands run as the ``postgres`` system user that Debian's package
creates (``subprocess``'s ``user=``/``group=``: the same setuid/setgid that ``runuser`` and
``setpriv`` do, without depending on either) and the temporary directory belongs to it.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .._masking import masked_location

#: Where Debian's ``postgresql`` package puts the server binaries, one directory per version.
DEBIAN_PG_BIN = "/usr/lib/postgresql/*/bin"
PG_INSTALL_HINT = "apt-get install postgresql"
REDIS_INSTALL_HINT = "apt-get install redis-server"

#: Test-speed settings: durability is pointless for a cluster deleted after the run.
PG_FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class ServerNotFound(RuntimeError):
    """A server binary is not installed; the message is one line ending with the install hint."""


class ServerFailed(RuntimeError):
    """A server did not start (or stop) as expected; the message ends with its log's tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the kernel's choice for port 0)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _version_key(directory: str) -> tuple[int, ...]:
    """``/usr/lib/postgresql/15/bin`` → ``(15,)``: so 15 sorts above 9.6, not below."""
    digits = re.findall(r"\d+", Path(directory).parent.name)
    return tuple(int(d) for d in digits)


def find_postgres_bin(search: str | os.PathLike[str] | None = None) -> Path:
    """The directory holding ``initdb``, ``postgres`` and ``psql``, newest version first.

    ``search`` is a directory or a glob pattern; by default Debian's
    ``/usr/lib/postgresql/*/bin``, then ``PATH`` (other distributions, Homebrew).
    """
    pattern = DEBIAN_PG_BIN if search is None else os.fspath(search)
    candidates = sorted(glob.glob(pattern), key=_version_key, reverse=True)
    if search is None:
        on_path = shutil.which("initdb")
        if on_path:
            candidates.append(str(Path(on_path).parent))
    for candidate in candidates:
        if all(os.access(Path(candidate, b), os.X_OK) for b in ("initdb", "postgres", "psql")):
            return Path(candidate)
    where = f"{pattern} and on PATH" if search is None else pattern
    raise ServerNotFound(
        f"PostgreSQL server binaries not found (looked in {where}): {PG_INSTALL_HINT}"
    )


def find_redis_server(path: str | None = None) -> Path:
    """``redis-server`` on ``path`` (a ``PATH``-style list; default: the real ``PATH``)."""
    found = shutil.which("redis-server", path=path)
    if found is None:
        where = "on PATH" if path is None else f"in {path}"
        raise ServerNotFound(f"redis-server not found {where}: {REDIS_INSTALL_HINT}")
    return Path(found)


def _unreachable_parent(path: Path, uid: int, gid: int) -> Path | None:
    """The first directory above ``path`` that user ``uid`` (group ``gid``) may not enter.

    Read from the mode bits, not by trying: the caller is root, for whom every
    ``os.access`` check succeeds. (Supplementary groups are ignored: the server runs
    without them.)
    """
    for parent in reversed(path.parents):
        st = parent.stat()
        if st.st_uid == uid:
            allowed = st.st_mode & stat.S_IXUSR
        elif st.st_gid == gid:
            allowed = st.st_mode & stat.S_IXGRP
        else:
            allowed = st.st_mode & stat.S_IXOTH
        if not allowed:
            return parent
    return None


def _clean_env() -> dict[str, str]:
    """The environment without ``PG*`` variables: a developer's ``PGHOST`` or ``PGOPTIONS``
    must not redirect or reconfigure the throw-away server and its tools."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


#: Servers started and not yet closed, stopped at interpreter exit so that a test run
#: interrupted before its teardown leaves no server behind.
_LIVE: weakref.WeakSet[_Service] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.close()


class _Service:
    """What both servers share: a temporary directory, one child process, its log."""

    _name = "server"

    def __init__(self, base_dir: str | os.PathLike[str] | None, prefix: str) -> None:
        self._base_dir = base_dir
        self._prefix = prefix
        self._dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.port: int | None = None
        #: Seconds the last :meth:`start` took, from nothing to accepting connections.
        self.startup_seconds: float | None = None

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def directory(self) -> Path:
        """The temporary directory (data, socket, log); it exists from the first start."""
        if self._dir is None:
            raise RuntimeError(f"{self._name} was never started")
        return self._dir

    @property
    def log_path(self) -> Path:
        return self.directory / "server.log"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _ensure_dir(self) -> Path:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix=self._prefix, dir=self._base_dir))
        return self._dir

    def _spawn(self, argv: list[str], **kwargs: Any) -> None:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in _reap)
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=_clean_env(),
            cwd=self.directory,
            # Its own session: a Ctrl-C in the terminal reaches pytest, whose teardown
            # stops the server, instead of killing the server under the running tests.
            start_new_session=True,
            **kwargs,
        )
        _LIVE.add(self)

    def _wait_ready(self, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self._proc is not None
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._reap()
                raise ServerFailed(
                    f"{self._name} exited with {code} while starting; log:\n{_tail(self.log_path)}"
                )
            if ready():
                return
            if time.monotonic() > deadline:
                self._signal_stop(signal.SIGKILL, 5.0)
                raise ServerFailed(
                    f"{self._name} not ready after {timeout:g} s; log:\n{_tail(self.log_path)}"
                )
            time.sleep(0.005)

    def _signal_stop(self, sig: int, timeout: float) -> None:
        """Send ``sig``, wait; kill if it does not go. Root may signal the postgres user's
        process, and a non-root user its own, so no privilege change is needed here."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._reap()

    def _reap(self) -> None:
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        """Stop the server, keeping its data and port (start it again with :meth:`start`)."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the server and delete its directory; a later :meth:`start` begins afresh."""
        self.stop()
        _LIVE.discard(self)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self.port = None

    def __del__(self) -> None:
        # a server dropped without close() still goes (its process would outlive the tests)
        with contextlib.suppress(Exception):
            if self._proc is not None:
                self.close()


class PostgresServer(_Service):
    """A throw-away PostgreSQL cluster on 127.0.0.1, for tests.

    ``url`` connects as a password-protected, non-superuser role that owns the database
    ``dbname`` and may create more (``CREATEDB``): over TCP the password is checked
    (``scram-sha-256``), so a test can check both that the password works and that it
    never leaks. The superuser ``postgres`` has trust auth on the unix socket only
    (``admin_url``), for what tests need a superuser for. Durability is off (see
    :data:`PG_FAST_SETTINGS`). :meth:`stop` and :meth:`restart` keep the data and the port.

    ``search`` is where to look for the binaries (see :func:`find_postgres_bin`);
    ``base_dir`` where to make the temporary directory (default: the system's; when
    running as root it must be reachable by the ``postgres`` user).
    """

    _name = "PostgreSQL"

    def __init__(
        self,
        *,
        search: str | os.PathLike[str] | None = None,
        user: str = "notify",
        password: str | None = None,
        dbname: str = "notify",
        settings: dict[str, str] | None = None,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(base_dir, "notify-pg-")
        for name in (user, dbname):
            if not _IDENTIFIER.fullmatch(name):
                raise ValueError(f"not a plain SQL identifier: {name!r}")
        self._search = search
        self.user = user
        #: Hex, so it needs no quoting in a URL or in SQL.
        self.password = password or secrets.token_hex(12)
        if not re.fullmatch(r"[A-Za-z0-9_.~-]+", self.password):
            raise ValueError("password: use URL-safe characters (letters, digits, _.~-)")
        self.dbname = dbname
        self.settings = {**PG_FAST_SETTINGS, **(settings or {})}
        self._bin: Path | None = None
        self._initialized = False
        self._as: dict[str, Any] = {}

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<PostgresServer {self.masked_url if self.port else 'never started'} {state}>"

    # -- where things are ----------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def socket_dir(self) -> Path:
        return self.directory

    def _require_port(self) -> int:
        if self.port is None:
            raise RuntimeError("PostgreSQL server was never started")
        return self.port

    def url_for(self, dbname: str) -> str:
        """The connection string of database ``dbname`` as :attr:`user`, with its password."""
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self._require_port()}/{dbname}"

    @property
    def url(self) -> str:
        """``postgresql://user:password@127.0.0.1:port/dbname`` (holds the password)."""
        return self.url_for(self.dbname)

    @property
    def masked_url(self) -> str:
        """:attr:`url` with ``***`` in the password's place: for messages and reprs."""
        return masked_location(self.url)

    @property
    def admin_url(self) -> str:
        """The superuser ``postgres`` over the unix socket (trust auth), database ``postgres``."""
        return f"postgresql://postgres@/postgres?host={self.socket_dir}&port={self._require_port()}"

    # -- lifecycle -----------------------------------------------------------------------

    def _privileges(self) -> dict[str, Any]:
        """``Popen`` keywords that drop root to the ``postgres`` user (nothing otherwise)."""
        if os.geteuid() != 0:
            return {}
        try:
            pg = pwd.getpwnam("postgres")
        except KeyError:
            raise ServerNotFound(
                "PostgreSQL refuses to run as root and there is no 'postgres' system user "
                f"to run it as: {PG_INSTALL_HINT} (creates it), or run the tests as non-root"
            ) from None
        return {"user": pg.pw_uid, "group": pg.pw_gid, "extra_groups": []}

    def _run(self, argv: list[str], *, as_server: bool) -> bytes:
        """Run a PostgreSQL program; its standard output, or :class:`ServerFailed`."""
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=_clean_env(),
            check=False,
            cwd=self.directory,  # not the caller's: the postgres user may not enter that
            **(self._as if as_server else {}),
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace").strip()
            raise ServerFailed(f"{Path(argv[0]).name} failed ({result.returncode}): {output}")
        out: bytes = result.stdout
        return out

    def _initdb(self) -> None:
        directory = self._ensure_dir()
        if self._as:
            os.chown(directory, self._as["user"], self._as["group"])
            blocked = _unreachable_parent(directory, self._as["user"], self._as["group"])
            if blocked is not None:
                raise ServerFailed(
                    f"running as root, PostgreSQL runs as the 'postgres' user, who cannot "
                    f"enter {blocked}: pass a base_dir it can reach (the default, "
                    f"{tempfile.gettempdir()}, usually is)"
                )
        assert self._bin is not None
        self._run(
            [
                str(self._bin / "initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username",
                "postgres",
                "--auth-local",
                "trust",
                "--auth-host",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--locale",
                "C",  # no dependency on the machine's locales, and the fastest collation
                "--no-sync",  # nothing here must survive a power cut
                "--no-instructions",
            ],
            as_server=True,
        )

    def _ready(self) -> bool:
        """``postmaster.pid``'s status line says ``ready``: what ``pg_ctl -w`` waits for,
        read every 5 ms instead of pg_ctl's 100 ms."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    def start(self) -> PostgresServer:
        """Start the server (making the cluster, its role and database on the first call)."""
        if self.running:
            return self
        began = time.monotonic()
        if self._bin is None:
            self._bin = find_postgres_bin(self._search)
            self._as = self._privileges()
        if not self._initialized:
            self._initdb()
            self._initialized = True
        first = self.port is None
        for attempt in range(3):  # another process may take the free port before we bind it
            if first:
                self.port = free_port()
            argv = [str(self._bin / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
            argv += ["-k", str(self.socket_dir), "-c", "listen_addresses=127.0.0.1"]
            for key, value in self.settings.items():
                argv += ["-c", f"{key}={value}"]
            self._spawn(argv, **self._as)
            try:
                self._wait_ready(self._ready, timeout=30.0)
                break
            except ServerFailed as exc:
                if not first or attempt == 2 or "could not bind" not in str(exc):
                    raise
        if first:
            self._psql(
                f"CREATE ROLE {self.user} LOGIN CREATEDB PASSWORD '{self.password}'",
                f"CREATE DATABASE {self.dbname} OWNER {self.user}",
            )
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Fast shutdown (SIGINT: clients are disconnected, a checkpoint is written)."""
        self._signal_stop(signal.SIGINT, timeout=30.0)

    def close(self) -> None:
        super().close()
        self._initialized = False

    def restart(self) -> PostgresServer:
        """Stop and start again on the same port, keeping the data: "PostgreSQL restarted"."""
        self.stop()
        return self.start()

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- databases -----------------------------------------------------------------------

    def _psql(self, *statements: str) -> None:
        """Run statements as the superuser over the unix socket, each on its own (``CREATE
        DATABASE`` cannot run inside a transaction block). ``-X``: no ``~/.psqlrc``."""
        assert self._bin is not None
        argv = [str(self._bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        argv += ["-h", str(self.socket_dir), "-p", str(self._require_port())]
        argv += ["-U", "postgres", "-d", "postgres"]
        for statement in statements:
            argv += ["-c", statement]
        self._run(argv, as_server=False)

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` owned by :attr:`user`; return its URL.

        A fresh database per test is cheap isolation: a few tens of milliseconds, against
        half a second for a fresh cluster.
        """
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"database name must be a plain SQL identifier: {name!r}")
        self._psql(f'CREATE DATABASE "{name}" OWNER {self.user}')
        return self.url_for(name)

    def dump(self, name: str | None = None) -> bytes:
        """``pg_dump`` of database ``name`` (default :attr:`dbname`): what a backup holds.

        Plain SQL, every row of every table, for tests that check what an operator's backup
        would give away. Runs as the superuser over the unix socket (as the ``postgres``
        user when root, like the server).
        """
        name = name or self.dbname
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"database name must be a plain SQL identifier: {name!r}")
        assert self._bin is not None
        program = self._bin / "pg_dump"
        if not os.access(program, os.X_OK):
            raise ServerNotFound(f"{program} not found: {PG_INSTALL_HINT} (postgresql-client)")
        argv = [str(program), "-h", str(self.socket_dir)]
        argv += ["-p", str(self._require_port()), "-U", "postgres", "--no-password", "-d", name]
        return self._run(argv, as_server=True)

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, disconnecting whoever is still connected to it."""
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"database name must be a plain SQL identifier: {name!r}")
        self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _resp(*args: str) -> bytes:
    """One command in Redis's wire protocol (RESP2), so the kit needs no Redis client."""
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class RedisServer(_Service):
    """A throw-away ``redis-server`` on 127.0.0.1, for tests: no persistence, nothing on disk.

    ``password`` (optional) turns on ``requirepass``: then :attr:`url` carries it, for tests
    that check a client masks it. ``path`` is where to look for ``redis-server`` (a
    ``PATH``-style list; default the real ``PATH``). :meth:`restart` keeps the port but, with
    persistence off, not the data: what a crashed cache looks like to its clients.
    """

    _name = "Redis"

    def __init__(
        self,
        *,
        path: str | None = None,
        password: str | None = None,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(base_dir, "notify-redis-")
        self._path = path
        self.password = password
        self._binary: Path | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<RedisServer {self.masked_url if self.port else 'never started'} {state}>"

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:port/0`` (``redis://:password@…`` with a password)."""
        if self.port is None:
            raise RuntimeError("Redis server was never started")
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    @property
    def masked_url(self) -> str:
        """:attr:`url` with ``***`` in the password's place (when there is one)."""
        return masked_location(self.url)

    def command(self, *args: str, timeout: float = 5.0) -> bytes:
        """Send one command, return the first line of the answer (``+OK``, ``+PONG``, ``-ERR…``).

        Enough for the kit's own needs (readiness, ``FLUSHALL``) without a client library.
        """
        if self.port is None:
            raise RuntimeError("Redis server was never started")
        with socket.create_connection(("127.0.0.1", self.port), timeout) as conn:
            payload = (_resp("AUTH", self.password) if self.password else b"") + _resp(*args)
            conn.sendall(payload)
            expected = 2 if self.password else 1
            answers: list[bytes] = []
            buffer = b""
            while len(answers) < expected:
                chunk = conn.recv(65536)
                if not chunk:
                    raise ConnectionError("Redis closed the connection")
                buffer += chunk
                *complete, buffer = buffer.split(b"\r\n")
                answers += complete
        return answers[expected - 1]

    def _ready(self) -> bool:
        try:
            return self.command("PING", timeout=1.0) == b"+PONG"
        except OSError:
            return False

    def start(self) -> RedisServer:
        if self.running:
            return self
        began = time.monotonic()
        if self._binary is None:
            self._binary = find_redis_server(self._path)
        directory = self._ensure_dir()
        first = self.port is None
        for attempt in range(3):
            if first:
                self.port = free_port()
            argv = [str(self._binary), "--port", str(self.port), "--bind", "127.0.0.1"]
            argv += ["--save", "", "--appendonly", "no", "--dir", str(directory)]
            argv += ["--daemonize", "no", "--logfile", ""]  # logs to stdout: our log file
            if self.password:
                argv += ["--requirepass", self.password]
            self._spawn(argv)
            try:
                self._wait_ready(self._ready, timeout=30.0)
                break
            except ServerFailed as exc:
                if not first or attempt == 2 or "Address already in use" not in str(exc):
                    raise
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stop at once, dropping every key (persistence is off anyway).

        ``SHUTDOWN NOSAVE`` acts immediately, where SIGTERM waits for the next server tick
        (up to 100 ms); SIGTERM stays as the fallback.
        """
        if self.running:
            with contextlib.suppress(OSError):
                self.command("SHUTDOWN", "NOSAVE", timeout=1.0)
        self._signal_stop(signal.SIGTERM, timeout=30.0)

    def restart(self) -> RedisServer:
        """Stop and start again on the same port (the data is gone: no persistence)."""
        self.stop()
        return self.start()

    def flush(self) -> None:
        """Delete every key in every database (``FLUSHALL``)."""
        answer = self.command("FLUSHALL")
        if answer != b"+OK":
            raise ServerFailed(f"FLUSHALL answered {answer.decode(errors='replace')}")

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
