"""Who may call the server, and what a request may be: one ASGI middleware in front of all.

- Bearer tokens (``Authorization: Bearer …``), compared in constant time against every
  configured token; the dashboard's login turns a token into an HttpOnly, SameSite=Strict
  cookie that holds an HMAC of it, never the token itself.
- Without tokens the server listens on loopback only (:func:`.check_bind`), and then
  accepts only loopback ``Host`` names, so a web page cannot reach it through DNS
  rebinding.
- A browser's cross-site request carries an ``Origin`` that is not ours: such writes are
  refused, whether or not a cookie came along. Dashboard forms carry a CSRF token too.
- Bodies larger than the limit are refused with 413, by ``Content-Length`` or while
  streaming.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from ._options import ServeOptions, is_loopback

SESSION_COOKIE = "notify_session"
#: Paths anyone may read: liveness says nothing but "the process answers".
PUBLIC_PATHS = frozenset({"/healthz"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: Renders the dashboard's login page (status 401) for a browser that is not logged in.
LoginPage = Callable[[Scope], bytes]


class Auth:
    """Tokens, sessions and CSRF tokens of one server process."""

    def __init__(self, options: ServeOptions) -> None:
        self.tokens = tuple(t.encode() for t in options.tokens)
        self.session_seconds = options.session_seconds
        #: Keys this process's CSRF tokens; a restart invalidates open forms, nothing more.
        self._csrf_key = secrets.token_bytes(32)

    @property
    def enabled(self) -> bool:
        return bool(self.tokens)

    def token_ok(self, presented: str) -> bool:
        """Constant time, and every token compared, so timing tells nothing."""
        given = presented.encode()
        ok = False
        for token in self.tokens:
            ok |= hmac.compare_digest(given, token)
        return ok

    def _sign(self, token: bytes, issued: int) -> str:
        return hmac.new(
            token, f"notify-serve-session:{issued}".encode(), hashlib.sha256
        ).hexdigest()

    def new_session(self, presented: str) -> str | None:
        """The cookie value for a correct token: issue time and its HMAC under the token."""
        if not self.token_ok(presented):
            return None
        issued = int(time.time())
        return f"{issued}.{self._sign(presented.encode(), issued)}"

    def session_ok(self, cookie: str | None) -> bool:
        if not cookie or "." not in cookie:
            return False
        issued_text, _, mac = cookie.partition(".")
        if not issued_text.isdigit():
            return False
        issued = int(issued_text)
        if not 0 <= time.time() - issued <= self.session_seconds:
            return False
        ok = False
        for token in self.tokens:
            ok |= hmac.compare_digest(mac, self._sign(token, issued))
        return ok

    def csrf_token(self, session: str | None) -> str:
        """Bound to the session (or to "no session" when no tokens are configured)."""
        return hmac.new(
            self._csrf_key, f"csrf:{session or '-'}".encode(), hashlib.sha256
        ).hexdigest()

    def csrf_ok(self, session: str | None, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf_token(session), presented or "")


def header(scope: Scope, name: str) -> str | None:
    wanted = name.lower().encode()
    for key, value in scope.get("headers", ()):
        if key == wanted:
            return bytes(value).decode("latin-1")
    return None


def cookie(scope: Scope, name: str) -> str | None:
    for part in (header(scope, "cookie") or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _host_name(host_header: str) -> str:
    return urlsplit(f"//{host_header}").hostname or ""


def is_ui(path: str) -> bool:
    return path == "/" or path == "/ui" or path.startswith("/ui/")


class Guard:
    """The ASGI middleware that applies every rule above before the app sees a request."""

    def __init__(self, app: ASGIApp, *, auth: Auth, max_body: int, login_page: LoginPage) -> None:
        self.app = app
        self.auth = auth
        self.max_body = max_body
        self.login_page = login_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self._refuse(scope)
        if problem is not None:
            status, body, content_type = problem
            await _answer(send, status, body, content_type)
            return
        length = header(scope, "content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _answer(send, 413, _error(f"request body over {self.max_body} bytes"))
            return
        if length is None and scope.get("method") not in _SAFE_METHODS:
            # a streamed (chunked) body: read it here, up to the limit, then replay it
            streamed = await self._read(receive)
            if streamed is None:
                await _answer(send, 413, _error(f"request body over {self.max_body} bytes"))
                return
            await self.app(scope, _replay(streamed, receive), send)
            return
        await self.app(scope, receive, send)

    async def _read(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # the client went away; the app will see that too
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _refuse(self, scope: Scope) -> tuple[int, bytes, str] | None:
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        host = header(scope, "host") or ""
        if not self.auth.enabled and host and not is_loopback(_host_name(host)):
            # tokenless means loopback only: a foreign Host is DNS rebinding or a proxy
            return 421, _error(f"unexpected Host {host!r}: this server answers on loopback"), ""
        origin = header(scope, "origin")
        if method not in _SAFE_METHODS and origin and origin != "null":
            scheme = scope.get("scheme", "http")
            if origin.rstrip("/") != f"{scheme}://{host}":
                return 403, _error("cross-site request refused (Origin is not this server)"), ""
        if path in PUBLIC_PATHS or not self.auth.enabled:
            return None
        if path in ("/ui/login",):
            return None  # the login form itself
        bearer = header(scope, "authorization") or ""
        scheme_name, _, presented = bearer.partition(" ")
        if scheme_name.lower() == "bearer" and presented and self.auth.token_ok(presented.strip()):
            return None
        if is_ui(path) and self.auth.session_ok(cookie(scope, SESSION_COOKIE)):
            return None
        if is_ui(path) and method in _SAFE_METHODS:
            return 401, self.login_page(scope), "text/html; charset=utf-8"
        return 401, _error("missing or wrong bearer token (Authorization: Bearer …)"), ""


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # http.disconnect, when it comes

    return replay


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


async def _answer(send: Send, status: int, body: bytes, content_type: str = "") -> None:
    headers = [
        (b"content-type", (content_type or "application/json").encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 401 and not content_type:
        headers.append((b"www-authenticate", b'Bearer realm="notify"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
