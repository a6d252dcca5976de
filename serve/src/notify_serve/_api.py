"""API v1: JSON over HTTP, every operation typed so ``/openapi.json`` says exactly what it does."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel

from ._schemas import (
    AcceptedOut,
    AlertmanagerIn,
    AlertmanagerOut,
    ChannelOut,
    ChannelsOut,
    DeliveryDetail,
    DeliveryPage,
    ErrorOut,
    EventIn,
    MessageIn,
    RetryOut,
    SilenceIn,
    SilenceOut,
    SilencesOut,
    StatusName,
    SwitchIn,
    TestOut,
)
from ._service import ApiError, Service, epoch

#: A claim on a key whose request never answered (the process died) is taken over after
#: this long; answers are kept for a day (IETF draft "The Idempotency-Key HTTP Header").
IDEMPOTENCY_STALE = 60.0
IDEMPOTENCY_TTL = 24 * 3600.0
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    # string keys: FastAPI adds its own 422 schema unless it finds "422" among them
    return {str(code): {"model": ErrorOut} for code in (401, *codes)}


JSON_ERRORS = (400, 413, 422)
TenantQ = Annotated[str | None, Query(min_length=1, max_length=200, description="The tenant.")]
IdemKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Repeat a request with the same key to get the first answer, not a"
        " second notification (kept 24 h).",
    ),
]


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def _idempotent(
    request: Request, key: str | None, make: Callable[[], Awaitable[BaseModel]]
) -> Response:
    """The first answer to a key, durably: a repeat is answered from the store."""
    if key is None:
        return _json(await make(), 202)
    if not _KEY.fullmatch(key):
        raise ApiError(400, "Idempotency-Key: 1 to 255 visible ASCII characters")
    store = _service(request).notifier.store
    body = await request.body()
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\0" + body
    ).hexdigest()
    scoped = f"{request.url.path} {key}"
    found = store.idempotency_claim(scoped, fingerprint, stale_after=IDEMPOTENCY_STALE)
    if found is not None:
        if found.fingerprint != fingerprint:
            raise ApiError(422, "Idempotency-Key: already used for a different request")
        if found.answer is None:
            raise ApiError(409, "Idempotency-Key: the first request is still being processed")
        return Response(
            found.answer,
            status_code=found.status or 202,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        out = await make()
    except BaseException:
        store.idempotency_release(scoped)
        raise
    answer = out.model_dump_json()
    store.idempotency_complete(scoped, status=202, answer=answer)
    return Response(answer, status_code=202, media_type="application/json")


def _json(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


router = APIRouter(prefix="/v1")


@router.post(
    "/events",
    status_code=202,
    response_model=AcceptedOut,
    responses=_errors(*JSON_ERRORS, 409),
    tags=["send"],
)
async def post_event(body: EventIn, request: Request, idempotency_key: IdemKey = None) -> Response:
    """Accept an event: stored before this answer, delivered by the worker.

    Its template (``[events."…"]`` in notify.toml) or the default one makes the message;
    channels whose ``events`` globs and severity floor match receive it.
    """
    return await _idempotent(request, idempotency_key, lambda: _service(request).event(body))


@router.post(
    "/messages",
    status_code=202,
    response_model=AcceptedOut,
    responses=_errors(*JSON_ERRORS, 409),
    tags=["send"],
)
async def post_message(
    body: MessageIn, request: Request, idempotency_key: IdemKey = None
) -> Response:
    """Accept a message for the named channels (or routed by its event and severity)."""
    return await _idempotent(request, idempotency_key, lambda: _service(request).message(body))


@router.post(
    "/alertmanager",
    status_code=202,
    response_model=AlertmanagerOut,
    responses=_errors(*JSON_ERRORS),
    tags=["send"],
)
async def post_alertmanager(
    payload: AlertmanagerIn, request: Request, tenant: TenantQ = None
) -> Response:
    """Alertmanager's webhook receiver (payload version 4): one message per alert.

    Event ``alertmanager.<alertname>``, dedup key the alert's fingerprint, ``firing``
    triggers and ``resolved`` resolves (a PagerDuty incident opens and closes with it).
    """
    return _json(await _service(request).alertmanager(payload, tenant), 202)


@router.get("/deliveries", response_model=DeliveryPage, responses=_errors(400, 422), tags=["log"])
async def list_deliveries(
    request: Request,
    status: StatusName | None = None,
    channel: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    event: Annotated[
        str | None, Query(min_length=1, max_length=200, description="A glob: training.*")
    ] = None,
    tenant: TenantQ = None,
    since: Annotated[datetime | None, Query(description="Created at or after (RFC 3339).")] = None,
    until: Annotated[datetime | None, Query(description="Created before (RFC 3339).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=200, description="next_cursor of a page.")
    ] = None,
) -> Response:
    """Deliveries, newest first, a page at a time."""
    page = _service(request).page(
        status=status,
        channel=channel,
        event=event,
        tenant=tenant,
        since=epoch(since),
        until=epoch(until),
        limit=limit,
        cursor=cursor,
    )
    return _json(page)


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    responses=_errors(404, 422),
    tags=["log"],
)
async def get_delivery(delivery_id: str, request: Request) -> Response:
    """One delivery: its message, the masked payload, and every attempt."""
    return _json(_service(request).detail(delivery_id))


@router.post(
    "/deliveries/{delivery_id}/retry",
    response_model=RetryOut,
    responses=_errors(404, 409, 422),
    tags=["log"],
)
async def retry_delivery(delivery_id: str, request: Request) -> Response:
    """Attempt a failed or skipped delivery again now, keeping its id and history."""
    return _json(RetryOut(deliveries=await _service(request).retry(delivery_id)))


@router.get("/channels", response_model=ChannelsOut, responses=_errors(), tags=["channels"])
async def list_channels(request: Request) -> Response:
    """Configured channels: masked target, routing, switch and health."""
    return _json(ChannelsOut(channels=_service(request).channels()))


@router.post(
    "/channels/{name}/test",
    response_model=TestOut,
    responses=_errors(404, 422),
    tags=["channels"],
)
async def send_test(name: str, request: Request, tenant: TenantQ = None) -> Response:
    """Send a labelled test notification to one channel and wait (bounded) for the answer."""
    return _json(await _service(request).test(name, tenant))


@router.post(
    "/channels/{name}/enable",
    response_model=ChannelOut,
    responses=_errors(*JSON_ERRORS, 404),
    tags=["channels"],
)
async def enable_channel(name: str, request: Request, tenant: TenantQ = None) -> Response:
    """Switch a channel back on (clears an auto-disable and its failure count)."""
    return _json(_service(request).switch(name, tenant, True, None))


@router.post(
    "/channels/{name}/disable",
    response_model=ChannelOut,
    responses=_errors(*JSON_ERRORS, 404),
    tags=["channels"],
)
async def disable_channel(
    name: str, request: Request, body: SwitchIn | None = None, tenant: TenantQ = None
) -> Response:
    """Stop delivering to a channel; its deliveries are recorded as skipped."""
    reason = body.reason if body is not None else None
    return _json(_service(request).switch(name, tenant, False, reason))


@router.get("/silences", response_model=SilencesOut, responses=_errors(422), tags=["silences"])
async def list_silences(
    request: Request,
    all: Annotated[bool, Query(description="Include expired silences.")] = False,
) -> Response:
    """Silences in force (or all of them), newest first."""
    return _json(SilencesOut(silences=_service(request).silences(all)))


@router.post(
    "/silences",
    status_code=201,
    response_model=SilenceOut,
    responses=_errors(*JSON_ERRORS),
    tags=["silences"],
)
async def create_silence(body: SilenceIn, request: Request) -> Response:
    """Skip matching deliveries (recorded as skipped) for a while."""
    return _json(_service(request).add_silence(body), 201)


@router.delete(
    "/silences/{silence_id}",
    status_code=204,
    responses=_errors(404, 422),
    tags=["silences"],
)
async def delete_silence(silence_id: str, request: Request) -> Response:
    """End a silence now."""
    _service(request).remove_silence(silence_id)
    return Response(status_code=204)
