"""The recording HTTP server: a real server on 127.0.0.1 that records and plays a script."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs


@attrs.frozen
class Answer:
    """One scripted answer.

    ``delay`` holds it back (a slow server); ``close`` hangs up without answering;
    ``cut`` sends the status line, headers and half the body, then resets the
    connection (a crash mid-response).
    """

    status: int = 200
    body: bytes | str = b"ok"
    headers: dict[str, str] = attrs.field(factory=dict)
    delay: float = 0.0
    close: bool = False
    cut: bool = False


@attrs.frozen
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received: float

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class RecordingServer:
    """A real HTTP server on a loopback port that records requests and plays a script.

    Answers are taken in order from the script of the request's path, then from the
    script for every path, then the default (``200 ok``).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[RecordedRequest] = []
        self.default = Answer()
        #: When set, answer 429 to any request beyond this many in the last second
        #: (a provider enforcing its rate limit); those requests are counted in
        #: :attr:`rejected` and still recorded.
        self.limit_per_second: float | None = None
        self.rejected = 0
        self._arrivals: dict[str, deque[float]] = {}
        self._scripts: dict[str | None, deque[Answer]] = {}
        self._lock = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes; without this, Nagle's algorithm
            # meets the client's delayed ACK and every answer takes 40 ms
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = server._record(
                    RecordedRequest(
                        method=self.command,
                        path=self.path,
                        headers=dict(self.headers.items()),
                        body=body,
                        received=time.time(),
                    )
                )
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.close:
                    self.close_connection = True
                    self.connection.close()
                    return
                data = answer.body.encode() if isinstance(answer.body, str) else answer.body
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if answer.cut:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            do_POST = do_PUT = do_PATCH = do_GET = do_DELETE = _handle

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RecordingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> RecordingServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, *answers: Answer | int, path: str | None = None) -> None:
        """Queue answers (an int is a status with an empty body) for ``path`` or any path."""
        with self._lock:
            queue = self._scripts.setdefault(path, deque())
            queue.extend(
                a if isinstance(a, Answer) else Answer(status=a, body=b"") for a in answers
            )

    def clear_script(self) -> None:
        """Drop every answer still queued (recorded requests are kept)."""
        with self._lock:
            self._scripts.clear()

    def _record(self, request: RecordedRequest) -> Answer:
        with self._lock:
            self.requests.append(request)
            self._lock.notify_all()
            if self.limit_per_second is not None:
                arrivals = self._arrivals.setdefault(request.path, deque())
                arrivals.append(request.received)
                while arrivals and arrivals[0] <= request.received - 1.0:
                    arrivals.popleft()
                if len(arrivals) > self.limit_per_second:
                    self.rejected += 1
                    return Answer(429, "rate limited", headers={"Retry-After": "1"})
            for key in (request.path, None):
                queue = self._scripts.get(key)
                if queue:
                    return queue.popleft()
            return self.default

    def wait_for(self, count: int, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until ``count`` requests have arrived (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            return list(self.requests)

    def to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.split("?")[0] == path]
