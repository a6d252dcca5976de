"""The ASGI app: API v1, operations endpoints, the dashboard, and the in-process worker.

One event loop runs all of it. The store is used from that loop's thread only (every
endpoint is ``async``: FastAPI would run a plain ``def`` on a thread pool, and the
SQLite store is not thread-safe), so the API, the worker and the dashboard share one
connection and its batched commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi

from notify_core import Notifier, NotifyError, StoreError

from . import _api, _dashboard
from ._metrics import CONTENT_TYPE, Metrics
from ._options import ServeOptions
from ._schemas import ErrorOut, HealthOut, ReadyOut
from ._security import Auth, Guard
from ._service import ApiError, Service

log = logging.getLogger("notify.serve")
#: How often answers to old Idempotency-Keys are forgotten.
PRUNE_EVERY = 3600.0


def _version() -> str:
    try:
        return version("notify-serve")
    except PackageNotFoundError:  # pragma: no cover - a source tree
        return "0+unknown"


def _error(status: int, message: str, detail: list[dict[str, Any]] | None = None) -> Response:
    body = ErrorOut(error=message, detail=detail).model_dump_json(exclude_none=True)
    return Response(body, status_code=status, media_type="application/json")


def _validation(request: Request, exc: RequestValidationError) -> Response:
    """422 naming the field (``body.message.title: Field required``); bad JSON is a 400."""
    errors = list(exc.errors())
    detail = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type")}
        for e in errors
    ]  # the input is not echoed back: it may be long, or hold what the caller meant to hide
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if not isinstance(p, int)) or "body"
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "")
        return _error(
            400, f"{where}: invalid JSON ({reason})" if reason else f"{where}: invalid JSON"
        )
    return _error(422, f"{where}: {first.get('msg', 'invalid')}", detail)


async def _run_worker(
    notifier: Notifier, options: ServeOptions, metrics: Metrics, stop: asyncio.Event
) -> None:
    try:
        await notifier.run_worker(
            stop=stop,
            grace=options.grace,
            poll=options.poll,
            on_result=lambda result: metrics.results([result]),
        )
    except Exception:
        log.exception("notify serve: the in-process worker stopped")
        raise


async def _prune_keys(notifier: Notifier) -> None:
    while True:
        notifier.store.idempotency_prune(notifier.clock.time() - _api.IDEMPOTENCY_TTL)
        await asyncio.sleep(PRUNE_EVERY)


def create_app(notifier: Notifier, options: ServeOptions | None = None) -> FastAPI:
    """The whole server for ``notifier``; run it with any ASGI server (``notify serve``)."""
    options = options or ServeOptions()
    metrics = Metrics(notifier)
    notifier.observe(metrics.attempt)
    service = Service(notifier, metrics, test_wait=options.test_wait)
    auth = Auth(options)
    pages = _dashboard.Pages(service, auth)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        worker = (
            asyncio.create_task(_run_worker(notifier, options, metrics, stop), name="notify-worker")
            if options.worker
            else None
        )
        app.state.worker = worker
        pruner = asyncio.create_task(_prune_keys(notifier))
        try:
            yield
        finally:
            stop.set()
            pruner.cancel()
            if worker is not None:
                # in-flight attempts get `grace` seconds, then are released to the outbox
                with contextlib.suppress(Exception):
                    await worker
            await notifier.aclose()

    app = FastAPI(
        title="notify",
        version=_version(),
        summary="Notifications through a durable outbox: send, inspect, retry.",
        docs_url=None,  # Swagger UI loads its assets from a CDN; the document is enough
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.metrics = metrics
    app.state.worker = None

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _error(exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return _validation(request, exc)

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        log.error("notify serve: %s", exc)
        return _error(503, f"store unavailable: {exc}")

    @app.exception_handler(NotifyError)
    async def notify_error(request: Request, exc: NotifyError) -> Response:
        return _error(422, str(exc))

    @app.get(
        "/healthz", response_model=HealthOut, tags=["operations"], openapi_extra={"security": []}
    )
    async def healthz() -> HealthOut:
        """Liveness: the process answers. The only route that needs no token."""
        return HealthOut(status="ok")

    @app.get(
        "/readyz",
        response_model=ReadyOut,
        responses={"401": {"model": ErrorOut}, "503": {"model": ReadyOut}},
        tags=["operations"],
    )
    async def readyz(request: Request) -> Response:
        """Readiness: the store answers, its schema is current, the worker runs."""
        where = notifier.db_location  # a database URL's password masked
        try:
            problem = notifier.store.ready()
        except (StoreError, OSError) as exc:
            problem = str(exc)
        task = request.app.state.worker
        if problem is None and task is not None and task.done():
            problem = "the in-process worker stopped (see the log)"
        ready = ReadyOut(
            status="ready" if problem is None else "not ready", store=where, problem=problem
        )
        return Response(
            ready.model_dump_json(exclude_none=True),
            status_code=200 if problem is None else 503,
            media_type="application/json",
        )

    @app.get(
        "/metrics",
        response_class=Response,
        responses={
            "200": {"content": {"text/plain": {"schema": {"type": "string"}}}},
            "401": {"model": ErrorOut},
        },
        tags=["operations"],
    )
    async def prometheus() -> Response:
        """Prometheus metrics (text format); see docs/serve.md for the list."""
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    app.include_router(_api.router)
    app.include_router(pages.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
                tags=[{"name": n} for n in ("send", "log", "channels", "silences", "operations")],
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            if auth.enabled:
                schema["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(
        Guard,
        auth=auth,
        max_body=options.max_body,
        login_page=pages.login_page,
    )
    return app
