"""A fake Slack Web API on 127.0.0.1 that answers the way Slack does.

``chat.postMessage`` and ``chat.update`` take JSON with a bearer token and answer HTTP
200 with ``{"ok": true, "channel", "ts"}`` or ``{"ok": false, "error"}``; a channel over
its pace gets HTTP 429 with ``Retry-After``. Every payload is checked with slack_sdk's
Block Kit models, as ``test_payload.py`` checks the builders, and a reply's
``thread_ts`` must name a top-level message of that channel; what fails a check is
refused like Slack would (``invalid_blocks``, ``thread_not_found``) and kept in
:attr:`FakeSlack.refused`, so a test can assert that nothing was.

Tests reach it through the core's documented seam:
``NOTIFY_REROUTE=https://slack.com=http://127.0.0.1:PORT``.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import pytest
from slack_sdk.models.attachments import BlockAttachment
from slack_sdk.models.blocks import Block

from notify_core.testing import Answer

TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
CHANNEL = "C0123ABCD"


@attrs.define
class Posted:
    """A message as the fake channel holds it."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    thread_ts: str | None = None
    reply_broadcast: bool = False
    #: every chat.update it received, oldest first
    updates: list[dict[str, Any]] = attrs.Factory(list)


@attrs.frozen
class Call:
    method: str
    authorization: str | None
    content_type: str | None
    args: dict[str, Any]
    received: float


class FakeSlack:
    """The Web API's two chat methods, with Slack's answers, errors and pace."""

    def __init__(self) -> None:
        self.tokens: dict[str, str | None] = {TOKEN: None}  # token → error it causes
        self.channels: dict[str, str | None] = {CHANNEL: None, "C0456EFGH": None}
        self.calls: list[Call] = []
        self.messages: list[Posted] = []
        self.refused: list[str] = []
        #: answers played before the real one (HTTP 429, 5xx, a slow answer)
        self.script: list[Answer] = []
        #: set to pace each channel like Slack does: more than ``burst`` posts within a
        #: second get HTTP 429 ``ratelimited`` with ``Retry-After: 1``
        self.burst: int | None = None
        self.rejected = 0
        self._arrivals: dict[str, list[float]] = {}
        self._gate: threading.Event | None = None
        self._counter = 0
        self._lock = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, body = fake._answer(self.path, dict(self.headers.items()), raw)
                data = body.encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def env(self) -> dict[str, str]:
        """The environment that sends a CLI's Slack requests here."""
        return {"NOTIFY_REROUTE": f"https://slack.com={self.url}"}

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._gate is not None:
            self._gate.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- what tests read ---------------------------------------------------------------

    def parents(self, channel: str = CHANNEL) -> list[Posted]:
        return [m for m in self.messages if m.channel == channel and m.thread_ts is None]

    def replies(self, ts: str) -> list[Posted]:
        return [m for m in self.messages if m.thread_ts == ts]

    def posts(self) -> list[Call]:
        return [c for c in self.calls if c.method == "chat.postMessage"]

    def wait_for_calls(self, count: int, timeout: float = 20.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.calls) < count and time.monotonic() < deadline:
                self._lock.wait(0.05)
            return list(self.calls)

    # -- holding an answer back ----------------------------------------------------------

    def hold(self) -> threading.Event:
        """Keep the next answers until the returned event is set (a slow Slack)."""
        self._gate = threading.Event()
        return self._gate

    # -- answering -----------------------------------------------------------------------

    def _answer(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], str]:
        lower = {k.lower(): v for k, v in headers.items()}
        method = path.removeprefix("/api/").split("?")[0]
        try:
            args = json.loads(raw) if raw else {}
        except ValueError:
            args = {"_raw": raw.decode(errors="replace")}
        with self._lock:
            self.calls.append(
                Call(
                    method, lower.get("authorization"), lower.get("content-type"), args, time.time()
                )
            )
            self._lock.notify_all()
            scripted = self.script.pop(0) if self.script else None
        gate = self._gate
        if gate is not None:
            gate.wait(30)
        if scripted is not None:
            if scripted.delay:
                time.sleep(scripted.delay)
            if scripted.status != 200 or scripted.body != b"ok":
                body = scripted.body if isinstance(scripted.body, str) else scripted.body.decode()
                return scripted.status, dict(scripted.headers), body
        with self._lock:
            return self._slack(method, lower, args)

    def _slack(
        self, method: str, headers: dict[str, str], args: dict[str, Any]
    ) -> tuple[int, dict[str, str], str]:
        def error(code: str, status: int = 200, **extra: str) -> tuple[int, dict[str, str], str]:
            return status, extra, json.dumps({"ok": False, "error": code})

        if method not in ("chat.postMessage", "chat.update"):
            return error("unknown_method", 404)
        if not (headers.get("content-type") or "").startswith("application/json"):
            return error("invalid_post_type")
        auth = headers.get("authorization") or ""
        if not auth.startswith("Bearer "):
            return error("not_authed")
        token = auth.removeprefix("Bearer ")
        if token not in self.tokens:
            return error("invalid_auth")
        if self.tokens[token]:
            return error(str(self.tokens[token]))
        channel = args.get("channel")
        if channel not in self.channels:
            return error("channel_not_found")
        if self.channels[channel]:
            return error(str(self.channels[channel]))
        problem = _check_blocks(args)
        if problem:
            self.refused.append(problem)
            return error("invalid_blocks")
        if self.burst is not None:
            now = time.monotonic()
            recent = [t for t in self._arrivals.get(channel, []) if t > now - 1.0]
            if len(recent) >= self.burst:
                self.rejected += 1
                return error("ratelimited", 429, **{"Retry-After": "1"})
            self._arrivals[channel] = [*recent, now]
        if method == "chat.update":
            return self._update(channel, args)
        thread_ts = args.get("thread_ts")
        if thread_ts is not None and not any(
            m.ts == thread_ts and m.channel == channel and m.thread_ts is None
            for m in self.messages
        ):
            self.refused.append(f"thread_ts {thread_ts} names no top-level message")
            return error("thread_not_found")
        self._counter += 1
        ts = f"{1767323045 + self._counter}.{self._counter:06d}"
        self.messages.append(
            Posted(
                channel=channel,
                ts=ts,
                text=args.get("text", ""),
                blocks=args.get("blocks", []),
                attachments=args.get("attachments", []),
                thread_ts=thread_ts,
                reply_broadcast=bool(args.get("reply_broadcast")),
            )
        )
        return 200, {}, json.dumps({"ok": True, "channel": channel, "ts": ts, "message": {}})

    def _update(self, channel: str, args: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        for message in self.messages:
            if message.channel == channel and message.ts == args.get("ts"):
                message.updates.append(args)
                answer = {"ok": True, "channel": channel, "ts": message.ts, "text": args["text"]}
                return 200, {}, json.dumps(answer)
        return 200, {}, json.dumps({"ok": False, "error": "message_not_found"})


def _check_blocks(args: dict[str, Any]) -> str:
    """What Slack would refuse in a message's content ("" when nothing)."""
    if not (args.get("text") or args.get("blocks")):
        return "no text and no blocks"
    blocks = args.get("blocks", [])
    if len(blocks) + sum(len(a.get("blocks", [])) for a in args.get("attachments", [])) > 50:
        return "more than 50 blocks"
    try:
        for raw in blocks:
            block = Block.parse(raw)
            if block is None:
                return f"unknown block {raw!r:.80}"
            block.validate_json()
            if block.to_dict() != raw:
                return f"block with fields Slack does not know: {raw!r:.80}"
        for attachment in args.get("attachments", []):
            parsed = [Block.parse(b) for b in attachment.get("blocks", [])]
            BlockAttachment(blocks=parsed, color=attachment.get("color")).validate_json()
    except Exception as exc:  # slack_sdk raises its own errors for every limit
        return f"{type(exc).__name__}: {exc}"
    return ""


@pytest.fixture
def slack_api() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    try:
        yield fake
    finally:
        fake.stop()
