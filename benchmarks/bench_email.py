"""What SMTP connection reuse saves: messages/s to a local server, with and without it.

    python benchmarks/bench_email.py              # 500 messages per row
    python benchmarks/bench_email.py --count 200  # fewer
    nox -s bench                                  # with the other benchmarks

The server is aiosmtpd in a subprocess on 127.0.0.1 (so it does not share the GIL with
the client), accepting every message: plain, and STARTTLS with AUTH (a certificate
from a throw-away trustme CA). The client is notify-email's own send path (payloads
built beforehand, then the plugin's ``send`` hook for each), at concurrency 1 and 8,
with the connection pool as shipped and with reuse switched off (a new session, with
its TLS handshake and AUTH, for every message). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

USER = "bench@example.com"
PASSWORD = "bench-password-0123"


# -- the server (run as a subprocess of this script) ----------------------------------


def serve(mode: str, port: int, certs: str) -> None:
    import logging
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 2.0.0 OK"

    logging.getLogger("mail.log").setLevel(logging.ERROR)  # one deprecation line per login
    kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": port, "server_hostname": "mx"}
    if mode == "starttls":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(f"{certs}/server.pem")
        kwargs.update(
            tls_context=context,
            require_starttls=True,
            auth_required=True,
            authenticator=lambda *a: AuthResult(success=True),
        )
    controller = Controller(Sink(), **kwargs)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    controller.stop()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    def __init__(self, mode: str, certs: str) -> None:
        self.mode = mode
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", mode, str(self.port), certs],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the SMTP server did not start ({line!r})")

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


# -- the client ---------------------------------------------------------------------------


def run(
    server: Server, ca_file: str, count: int, concurrency: int, reuse: bool
) -> tuple[float, int]:
    """Messages/s for ``count`` sends, and how many SMTP sessions were opened."""
    import notify_email
    from notify_core import Channel, Message, Providers, SendContext
    from notify_email import _smtp

    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port,
        "mode": server.mode,
        "from": "Bench <bench@example.com>",
        "to": ["ops@example.com"],
    }
    if server.mode == "starttls":
        options.update(ca_file=ca_file, username=USER, password=PASSWORD)
    channel = Channel(name="bench", provider="email", options=options)
    providers = Providers()
    providers.register(notify_email, name="email")
    target = providers.validate(channel)
    message = Message(
        title="Training complete: resnet50-sweep-17",
        body="Validation accuracy 0.9731 after 90 epochs; checkpoint saved.",
        fields={"accuracy": "0.9731", "loss": "0.0812", "epochs": "90"},
    )
    payloads = [providers.build(channel, message, f"dly_{i:06d}") for i in range(count)]

    async def go() -> tuple[float, int]:
        loop = asyncio.get_running_loop()
        pool = _smtp._pools[loop] = _smtp.Pool(loop, reuse=reuse)
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> str:
            context = SendContext(delivery_id=f"dly_{i:06d}", attempt=1, timeout=10, target=target)
            async with gate:
                outcome = await providers.send(channel, payloads[i], context, None)  # type: ignore[arg-type]
            return outcome.status

        started = time.perf_counter()
        statuses = await asyncio.gather(*(one(i) for i in range(count)))
        elapsed = time.perf_counter() - started
        await notify_email.close_transports()
        failed = [s for s in statuses if s != "delivered"]
        if failed:
            raise RuntimeError(f"{len(failed)} sends were not delivered")
        return count / elapsed, pool.opened

    return asyncio.run(go())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="messages per row")
    parser.add_argument(
        "--serve", nargs=3, metavar=("MODE", "PORT", "CERTS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.serve[2])
        return 0
    import trustme

    with tempfile.TemporaryDirectory() as certs:
        ca = trustme.CA()
        ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
            os.path.join(certs, "server.pem")
        )
        ca_file = os.path.join(certs, "ca.pem")
        ca.cert_pem.write_to_path(ca_file)
        rows = []
        for mode in ("plain", "starttls"):
            server = Server(mode, certs)
            try:
                run(server, ca_file, 20, 1, True)  # warm up: imports, TLS context, EHLO name
                for concurrency in (1, 8):
                    figures = {}
                    for reuse in (False, True):
                        figures[reuse] = run(server, ca_file, args.count, concurrency, reuse)
                    rows.append((mode, concurrency, figures))
            finally:
                server.close()
    label = {"plain": "plain", "starttls": "STARTTLS + AUTH"}
    cores = os.cpu_count()
    print(f"notify-email: {args.count} messages per row to aiosmtpd on 127.0.0.1 ({cores} cores)")
    print(f"{'mode':<16} {'concurrency':>11} {'new session each':>18} {'reused':>18} {'gain':>6}")
    for mode, concurrency, figures in rows:
        (cold, cold_n), (warm, warm_n) = figures[False], figures[True]
        print(
            f"{label[mode]:<16} {concurrency:>11} {cold:>8,.0f} msg/s ({cold_n:>4}) "
            f"{warm:>8,.0f} msg/s ({warm_n:>4}) {warm / cold:>5.1f}x"
        )
    print("(in parentheses: SMTP sessions opened)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
