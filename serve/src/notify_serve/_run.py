"""Running the app: uvicorn on a socket bound here, the in-process worker, clean shutdown.

The socket is bound before uvicorn starts so a port in use is one clear line (exit 2)
and ``--port 0`` can say which port it got. SIGINT and SIGTERM stop taking requests,
let those in flight finish, then stop the worker: in-flight attempts get the grace
period, the rest are released to the outbox. The process then exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import Iterator, Mapping

import uvicorn

from notify_core import ConfigError, Notifier

from ._app import create_app
from ._options import ServeOptions, resolve_options


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Handle SIGINT/SIGTERM as a graceful stop, without re-raising them afterwards.

        uvicorn re-raises a captured signal once it has shut down, which would end the
        process with "killed by SIGTERM" after a clean shutdown.
        """
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for sig in signals:
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every answer (headers, then body) waits 40 ms for a delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"notify serve: cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(notifier: Notifier, options: ServeOptions, *, log_level: str = "info") -> int:
    """Serve until SIGINT/SIGTERM; returns the exit code."""
    notifier.store  # noqa: B018 - open it now: a broken store fails start-up, not a request
    sock = bind(options.host, options.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    app = create_app(notifier, options)
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="on",
        timeout_graceful_shutdown=max(1, int(options.grace)),
        server_header=False,
        proxy_headers=True,
    )
    server = _Server(config)

    async def main() -> None:
        async def announce() -> None:
            while not server.started:
                await asyncio.sleep(0.02)
            auth = f"{len(options.tokens)} token(s)" if options.tokens else "no tokens (loopback)"
            worker = "in-process worker" if options.worker else "no worker (--no-worker)"
            print(
                f"notify serve: listening on http://{shown}:{port} ({worker}; {auth})",
                flush=True,
            )

        task = asyncio.create_task(announce())
        try:
            await server.serve(sockets=[sock])
        finally:
            task.cancel()

    try:
        asyncio.run(main())
    finally:
        sock.close()
    if not server.started:
        print("notify serve: failed to start (see the log above)", file=sys.stderr)
        return 2
    print("notify serve: stopped", file=sys.stderr, flush=True)
    return 0


def run(
    notifier: Notifier,
    *,
    host: str | None = None,
    port: int | None = None,
    worker: bool = True,
    grace: float = 10.0,
    env: Mapping[str, str] | None = None,
    log_level: str = "info",
) -> int:
    """What ``notify serve`` calls: options from flags, ``[serve]`` and the environment."""
    options = resolve_options(notifier, host=host, port=port, worker=worker, grace=grace, env=env)
    return serve(notifier, options, log_level=log_level)
