"""The delivery dashboard: server-rendered pages, readable without JavaScript.

Forms POST and redirect (303), so every action works without scripts; the little
inline script only adds live refresh, relative times that keep moving, and copy
buttons. Nothing is fetched from anywhere else: the templates carry their CSS and JS.
Every POST carries a CSRF token bound to the session; targets are the masked displays.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import jinja2
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from notify_core import DeliveryRow

from ._security import SESSION_COOKIE, Auth, Scope, cookie
from ._service import ApiError, Service, at, delivery_out

STATUSES = ("pending", "sending", "delivered", "failed", "skipped")
#: The log's "since" choices: label → seconds.
SINCE = {"15m": 900, "1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400}
PAGE = 50


def ago(when: datetime | float | None, now: float | None = None) -> str:
    """``12 s ago``, ``5 min ago``, ``in 30 s``: what a person reads at a glance."""
    if when is None:
        return "-"
    ts = when.timestamp() if isinstance(when, datetime) else when
    delta = (now if now is not None else time.time()) - ts
    future, delta = delta < 0, abs(delta)
    if delta < 5:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min"), (1, "s")):
        if delta >= size:
            text = f"{int(delta // size)} {unit}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"  # pragma: no cover


def iso(when: datetime | float | None) -> str:
    if when is None:
        return ""
    dt = when if isinstance(when, datetime) else datetime.fromtimestamp(when, timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def pretty(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("notify_serve", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(ago=ago, iso=iso, pretty=pretty, q=lambda v: quote(str(v), safe=""))
    return env


class Pages:
    def __init__(self, service: Service, auth: Auth) -> None:
        self.service = service
        self.auth = auth
        self.env = _environment()
        self.router = APIRouter(include_in_schema=False)
        r = self.router
        r.add_api_route("/", self.root, methods=["GET"])
        r.add_api_route("/ui", self.log, methods=["GET"])
        r.add_api_route("/ui/deliveries/{delivery_id}", self.delivery, methods=["GET"])
        r.add_api_route("/ui/deliveries/{delivery_id}/retry", self.retry, methods=["POST"])
        r.add_api_route("/ui/channels", self.channels, methods=["GET"])
        r.add_api_route("/ui/channels/{name}/{action}", self.channel_action, methods=["POST"])
        r.add_api_route("/ui/login", self.login_form, methods=["GET"])
        r.add_api_route("/ui/login", self.login, methods=["POST"])
        r.add_api_route("/ui/logout", self.logout, methods=["POST"])

    # -- rendering -------------------------------------------------------------------

    def _session(self, scope: Scope) -> str | None:
        return cookie(scope, SESSION_COOKIE) if self.auth.enabled else None

    def render(self, name: str, scope: Scope, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.text(name, scope, **context), status_code=status)

    def text(self, name: str, scope: Scope, **context: Any) -> str:
        context.setdefault("page", name.removesuffix(".html"))
        return self.env.get_template(name).render(
            csrf=self.auth.csrf_token(self._session(scope)),
            auth_enabled=self.auth.enabled,
            logged_in=self.auth.enabled and self.auth.session_ok(self._session(scope)),
            now=time.time(),
            **context,
        )

    def login_page(self, scope: Scope, *, error: str | None = None) -> bytes:
        """Shown with status 401 to a browser that is not logged in (see ``Guard``)."""
        path = scope.get("path", "/ui")
        query = scope.get("query_string", b"").decode("latin-1")
        target = path + (f"?{query}" if query else "")
        return self.text("login.html", scope, next=_safe_next(target), error=error).encode()

    async def _form(self, request: Request) -> dict[str, str]:
        """The posted form, after its CSRF token was checked."""
        raw = (await request.body()).decode("utf-8", errors="replace")
        form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        if not self.auth.csrf_ok(self._session(request.scope), form.get("csrf")):
            raise ApiError(403, "csrf: the form is stale or from another site; reload the page")
        return form

    # -- pages -----------------------------------------------------------------------

    async def root(self) -> Response:
        return RedirectResponse("/ui", status_code=303)

    def _filters(self, request: Request) -> dict[str, str]:
        q = request.query_params
        return {
            k: q[k].strip()
            for k in ("status", "channel", "event", "tenant", "since")
            if q.get(k, "").strip()
        }

    async def log(self, request: Request) -> Response:
        filters = self._filters(request)
        status = filters.get("status")
        if status is not None and status not in STATUSES:
            raise ApiError(422, f"status: choose one of {', '.join(STATUSES)}")
        since = filters.get("since")
        if since is not None and since not in SINCE:
            raise ApiError(422, f"since: choose one of {', '.join(SINCE)}")
        rows, cursor = self.service.deliveries(
            status=status,  # type: ignore[arg-type]
            channel=filters.get("channel"),
            event=filters.get("event"),
            tenant=filters.get("tenant"),
            since=time.time() - SINCE[since] if since else None,
            limit=PAGE,
            cursor=request.query_params.get("cursor") or None,
        )
        highlight = request.query_params.get("highlight")
        context: dict[str, Any] = {
            "rows": [_row_view(r) for r in rows],
            "highlight": highlight,
            "next_url": "/ui?" + urlencode({**filters, "cursor": cursor}) if cursor else None,
            "paged": bool(request.query_params.get("cursor")),
        }
        if request.query_params.get("fragment") == "rows":
            return self.render("_rows.html", request.scope, **context)
        tested = None
        if highlight:
            row = self.service.notifier.store.get(highlight)
            tested = _row_view(row) if row is not None else None
        channel_names = sorted({c.name for c in self.service.notifier.config.all_channels()})
        return self.render(
            "log.html",
            request.scope,
            filters=filters,
            statuses=STATUSES,
            since_choices=list(SINCE),
            channel_names=channel_names,
            counts=self.service.notifier.store.counts(),
            tested=tested,
            query=urlencode({**filters, "fragment": "rows"}),
            **context,
        )

    async def delivery(self, delivery_id: str, request: Request) -> Response:
        try:
            detail = self.service.detail(delivery_id)
        except ApiError as exc:
            return self.render("missing.html", request.scope, status=exc.status, what=exc.message)
        return self.render("delivery.html", request.scope, d=detail)

    async def retry(self, delivery_id: str, request: Request) -> Response:
        await self._form(request)
        await self.service.retry(delivery_id)
        return RedirectResponse(f"/ui/deliveries/{quote(delivery_id, safe='')}", status_code=303)

    async def channels(self, request: Request) -> Response:
        return self.render("channels.html", request.scope, channels=self.service.channels())

    async def channel_action(self, name: str, action: str, request: Request) -> Response:
        form = await self._form(request)
        tenant = form.get("tenant") or None
        if action == "test":
            tested = await self.service.test(name, tenant)
            where = {"channel": name, "highlight": tested.delivery.id}
            if tenant:
                where["tenant"] = tenant
            return RedirectResponse("/ui?" + urlencode(where), status_code=303)
        if action not in ("enable", "disable"):
            raise ApiError(404, f"no action {action!r}: test, enable or disable")
        reason = form.get("reason") or (
            "disabled from the dashboard" if action == "disable" else None
        )
        self.service.switch(name, tenant, action == "enable", reason)
        return RedirectResponse("/ui/channels", status_code=303)

    async def login_form(self, request: Request) -> Response:
        if not self.auth.enabled:
            return RedirectResponse("/ui", status_code=303)
        target = _safe_next(request.query_params.get("next", "/ui"))
        return self.render("login.html", request.scope, next=target, error=None)

    async def login(self, request: Request) -> Response:
        form = await self._form(request)
        target = _safe_next(form.get("next", "/ui"))
        session = self.auth.new_session(form.get("token", "").strip())
        if session is None:
            return self.render(
                "login.html",
                request.scope,
                status=401,
                next=target,
                error="That token is not valid.",
            )
        answer = RedirectResponse(target, status_code=303)
        answer.set_cookie(
            SESSION_COOKIE,
            session,
            max_age=int(self.auth.session_seconds),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return answer

    async def logout(self, request: Request) -> Response:
        await self._form(request)
        answer = RedirectResponse("/ui/login", status_code=303)
        answer.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return answer


def _safe_next(target: str) -> str:
    """Only our own pages: an open redirect after login would be a phishing aid."""
    if not target.startswith("/ui") or target.startswith("/ui/login") or "//" in target:
        return "/ui"
    return target


def _row_view(row: DeliveryRow) -> dict[str, Any]:
    view = delivery_out(row).model_dump()
    view["created_ts"] = row.created
    view["key"] = row.channel_key
    view["next_ts"] = row.next_attempt if row.status == "pending" else None
    view["created"] = at(row.created)
    return view
