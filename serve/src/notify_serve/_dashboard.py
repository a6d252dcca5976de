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
from pydantic import ValidationError

from notify_core import DeliveryRow, NotifyError
from notify_core._cli._adhoc import adhoc_settings

from ._schemas import ChannelIn
from ._security import SESSION_COOKIE, Auth, Scope, cookie
from ._service import ApiError, Service, at, delivery_out

STATUSES = ("pending", "sending", "delivered", "failed", "skipped")
#: The log's "since" choices: label → seconds.
SINCE = {"15m": 900, "1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400}
PAGE = 50
#: The add-channel form's fields as an empty form shows them.
EMPTY_FORM: dict[str, Any] = {
    "tenant": "",
    "name": "",
    "provider": "webhook",
    "min_severity": "info",
    "events": [],
    "events_glob": "",
    "description": "",
    "settings": "",
}


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
        r.add_api_route("/ui/channels", self.add_channel, methods=["POST"])
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
        return {k: v[-1] for k, v in (await self._fields(request)).items()}

    async def _fields(self, request: Request) -> dict[str, list[str]]:
        """The posted form with every value of repeated fields (checkboxes), CSRF checked."""
        raw = (await request.body()).decode("utf-8", errors="replace")
        fields = parse_qs(raw, keep_blank_values=True)
        token = fields.get("csrf", [None])[-1]
        if not self.auth.csrf_ok(self._session(request.scope), token):
            raise ApiError(403, "csrf: the form is stale or from another site; reload the page")
        return fields

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
        channel_names = sorted({c.name for c in self.service.notifier.all_channels()})
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

    def _channels_page(
        self,
        request: Request,
        *,
        status: int = 200,
        error: str | None = None,
        form: dict[str, Any] | None = None,
        notice: str | None = None,
    ) -> Response:
        notifier = self.service.notifier
        return self.render(
            "channels.html",
            request.scope,
            status=status,
            channels=self.service.channels(),
            providers=[p.spec for p in notifier.providers.installed.values()],
            event_names=sorted(notifier.config.templates),
            audit=self.service.history(None, None, 20),
            error=error,
            form={**EMPTY_FORM, **{k: v for k, v in (form or {}).items() if v is not None}},
            notice=notice,
        )

    async def channels(self, request: Request) -> Response:
        q = request.query_params
        notice = None
        if q.get("added"):
            notice = f"Added channel {q['added']}."
        elif q.get("removed"):
            notice = f"Deleted channel {q['removed']}."
        return self._channels_page(request, notice=notice)

    async def add_channel(self, request: Request) -> Response:
        """The form's channel, validated like any other; on error the form comes back."""
        fields = await self._fields(request)
        form = {k: v[-1].strip() for k, v in fields.items() if v}
        events = [e for e in fields.get("event", []) if e.strip()]
        events += [e.strip() for e in form.get("events_glob", "").split(",") if e.strip()]
        shown = {  # what the form shows again after an error: never the URL, keys or settings
            "tenant": form.get("tenant"),
            "name": form.get("name"),
            "provider": form.get("provider"),
            "min_severity": form.get("min_severity"),
            "events": fields.get("event", []),
            "events_glob": form.get("events_glob"),
            "description": form.get("description"),
        }
        try:
            body = ChannelIn(
                name=form.get("name", ""),
                tenant=form.get("tenant") or None,
                provider=form.get("provider", ""),
                url=form.get("url") or None,
                events=events or None,
                min_severity=form.get("min_severity") or None,  # type: ignore[arg-type]
                settings=_pairs(form.get("settings", ""), "settings") or None,
                options={k: str(v) for k, v in _pairs(form.get("options", ""), "options").items()}
                or None,
                description=form.get("description") or None,
            )
            saved = self.service.add_channel(body, "dashboard")
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "form"
            return self._channels_page(
                request, status=422, error=f"{where}: {first.get('msg')}", form=shown
            )
        except (ApiError, NotifyError) as exc:
            message = exc.message if isinstance(exc, ApiError) else str(exc)
            status = exc.status if isinstance(exc, ApiError) else 422
            return self._channels_page(request, status=status, error=message, form=shown)
        return RedirectResponse("/ui/channels?" + urlencode({"added": saved.key}), status_code=303)

    async def channel_action(self, name: str, action: str, request: Request) -> Response:
        form = await self._form(request)
        tenant = form.get("tenant") or None
        if action == "test":
            tested = await self.service.test(name, tenant, "dashboard")
            where = {"channel": name, "highlight": tested.delivery.id}
            if tenant:
                where["tenant"] = tenant
            return RedirectResponse("/ui?" + urlencode(where), status_code=303)
        if action == "delete":
            channel = self.service.find_channel(name, tenant)
            if form.get("confirmed") != "yes":  # a page that asks first, scripts or not
                return self.render(
                    "confirm.html",
                    request.scope,
                    channel_name=channel.name,
                    tenant=channel.tenant,
                    key=channel.key,
                    provider=channel.provider,
                    target=self.service.channel_out(channel).target,
                )
            self.service.remove_channel(name, tenant, "dashboard")
            return RedirectResponse(
                "/ui/channels?" + urlencode({"removed": channel.key}), status_code=303
            )
        if action not in ("enable", "disable"):
            raise ApiError(404, f"no action {action!r}: test, enable, disable or delete")
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


def _pairs(text: str, field: str) -> dict[str, Any]:
    """``KEY=VALUE`` lines as ``notify channels add --setting`` reads them."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    try:
        return adhoc_settings(lines)
    except NotifyError as exc:
        raise ApiError(422, f"{field}: {str(exc).replace('--setting', 'line')}") from None


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
