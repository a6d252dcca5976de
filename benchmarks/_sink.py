"""The loopback sink every benchmark sends to: nginx answering ``return 200``.

nginx is what DESIGN §7's reference figures were measured against. When it is missing
we try Debian's package (as root), then fall back to an aiohttp sink, labelled as such
in the output, since a Python sink is slower and changes every ratio.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log crit;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ return 200 "ok"; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"sink did not listen on {port}")


def find_nginx() -> str | None:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "nginx-light"], capture_output=True, check=False
    )
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, check=False)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "nginx-light"], capture_output=True, check=False
        )
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


@contextlib.contextmanager
def sink() -> Iterator[tuple[str, str]]:
    """Yield (base URL, label) of a running sink; stop it afterwards."""
    port = free_port()
    nginx = find_nginx()
    if nginx:
        with tempfile.TemporaryDirectory() as tmp:
            conf = Path(tmp) / "nginx.conf"
            conf.write_text(NGINX_CONF.format(dir=tmp, port=port))
            proc = subprocess.Popen(
                [nginx, "-c", str(conf), "-p", tmp],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                _wait_port(port)
                version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr
                yield f"http://127.0.0.1:{port}", version.strip().replace("nginx version: ", "")
            finally:
                proc.terminate()
                proc.wait(timeout=10)
        return
    yield from _aiohttp_sink(port)


_AIOHTTP_SINK = """
import sys
from aiohttp import web

async def ok(request):
    await request.read()
    return web.Response(text="ok")

app = web.Application()
app.router.add_route("*", "/{tail:.*}", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


def _aiohttp_sink(port: int) -> Iterator[tuple[str, str]]:
    """A separate process, so the sink does not share the benchmark's interpreter."""
    proc = subprocess.Popen([sys.executable, "-c", _AIOHTTP_SINK, str(port)])
    try:
        _wait_port(port)
        yield f"http://127.0.0.1:{port}", "aiohttp sink (FALLBACK: nginx unavailable)"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


SLOW_SINK = """
import asyncio, sys
from aiohttp import web

async def answer(request):
    await request.read()
    await asyncio.sleep(float(sys.argv[2]))
    return web.Response(text="ok")

app = web.Application()
app.router.add_route("*", "/{tail:.*}", answer)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


@contextlib.contextmanager
def slow_sink(delay: float) -> Iterator[str]:
    """A sink in its own process that answers every request ``delay`` seconds late."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SLOW_SINK, str(port), str(delay)])
    try:
        _wait_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
