"""The API's request and response bodies: typed models, so the OpenAPI document is exact.

Requests refuse unknown keys (``extra="forbid"``): a misspelt ``severty`` is a 422 that
names it, not a silently ignored field. Alertmanager's payload is the exception: its
format grows, and a receiver must not break when it does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

SeverityName = Literal["info", "warning", "error", "critical"]
StatusName = Literal["pending", "sending", "delivered", "failed", "skipped"]
ChannelName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests ------------------------------------------------------------------------


class EventIn(Strict):
    """An event; its template (``[events."…"]``) or the default one makes the message."""

    event: str = Field(min_length=1, max_length=200, examples=["training.failed"])
    data: dict[str, Any] = Field(default_factory=dict, examples=[{"experiment": "resnet50"}])
    tenant: str | None = Field(default=None, min_length=1, max_length=200)
    severity: SeverityName | None = None


class FieldIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    value: str = Field(max_length=2000)
    short: bool = True


class ActionIn(Strict):
    label: str = Field(min_length=1, max_length=200)
    url: str = Field(pattern=r"^https?://", max_length=3000)
    style: Literal["default", "primary", "danger"] = "default"


class MessageBody(Strict):
    title: str = Field(min_length=1, max_length=1000, examples=["Backup done"])
    body: str = Field(default="", max_length=20000)
    event: str = Field(default="", max_length=200)
    severity: SeverityName = "info"
    fields: list[FieldIn] = Field(default_factory=list, max_length=100)
    actions: list[ActionIn] = Field(default_factory=list, max_length=25)
    dedup_key: str | None = Field(default=None, min_length=1, max_length=255)
    tags: list[str] = Field(default_factory=list, max_length=50)
    data: dict[str, Any] = Field(default_factory=dict)
    state: Literal["trigger", "acknowledge", "resolve"] = "trigger"


class MessageIn(Strict):
    """A message; sent to ``channels`` when given, else routed by its event and severity."""

    message: MessageBody
    channels: list[ChannelName] | None = Field(default=None, min_length=1, max_length=50)
    tenant: str | None = Field(default=None, min_length=1, max_length=200)


class SwitchIn(Strict):
    reason: str | None = Field(default=None, max_length=500)


class SilenceIn(Strict):
    """Skip matching deliveries for ``duration`` seconds (or until ``until``)."""

    event: str = Field(default="*", min_length=1, max_length=200)
    channel: str | None = Field(default=None, min_length=1, max_length=200)
    tenant: str | None = Field(default=None, min_length=1, max_length=200)
    duration: float | None = Field(default=None, gt=0, le=366 * 86400)
    until: datetime | None = None
    reason: str | None = Field(default=None, max_length=500)


class AlertIn(BaseModel):
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str | None = None
    fingerprint: str | None = None


class AlertmanagerIn(BaseModel):
    """Alertmanager's webhook payload, version 4."""

    version: str = "4"
    groupKey: str | None = None
    truncatedAlerts: int = 0
    status: Literal["firing", "resolved"] | None = None
    receiver: str | None = None
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str | None = None
    alerts: list[AlertIn] = Field(max_length=10000)


# -- responses -----------------------------------------------------------------------


class ErrorOut(BaseModel):
    """Every error: one line that names the field or the problem."""

    error: str
    detail: list[dict[str, Any]] | None = None


class DeliveryRef(BaseModel):
    id: str
    channel: str
    tenant: str | None
    provider: str
    status: StatusName
    attempts: int = 0
    reason: str = ""
    http_status: int | None = None


class AcceptedOut(BaseModel):
    message_id: str
    deliveries: list[DeliveryRef]


class AlertAccepted(BaseModel):
    fingerprint: str
    state: Literal["trigger", "resolve"]
    event: str
    message_id: str
    deliveries: list[DeliveryRef]


class AlertmanagerOut(BaseModel):
    alerts: int
    accepted: list[AlertAccepted]


class DeliveryOut(BaseModel):
    id: str
    message_id: str
    created: datetime
    updated: datetime
    event: str
    severity: str
    tenant: str | None
    channel: str
    provider: str
    target: str = Field(description="The destination, secrets masked.")
    status: StatusName
    attempts: int
    next_attempt: datetime | None
    last_error: str | None
    last_status: int | None
    dedup_key: str | None
    meta: dict[str, Any] | None


class AttemptOut(BaseModel):
    number: int
    started: datetime
    duration_ms: float
    http_status: int | None
    outcome: str
    error: str | None
    response: str | None = Field(description="The provider's answer, an excerpt, masked.")


class DeliveryDetail(DeliveryOut):
    message: dict[str, Any]
    payload: dict[str, Any] | None = Field(description="What was sent, secrets masked.")
    attempts_log: list[AttemptOut]


class DeliveryPage(BaseModel):
    deliveries: list[DeliveryOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page.")


class ChannelOut(BaseModel):
    name: str
    tenant: str | None
    key: str
    provider: str
    target: str = Field(description="The destination, secrets masked.")
    events: list[str]
    min_severity: str
    enabled_in_config: bool
    health: Literal["ok", "failing", "disabled", "unknown"]
    state: str
    consecutive_failures: int
    last_success: datetime | None
    last_failure: datetime | None
    last_error: str | None


class ChannelsOut(BaseModel):
    channels: list[ChannelOut]


class TestOut(BaseModel):
    delivery: DeliveryRef
    response: str | None = Field(description="The provider's answer, an excerpt, masked.")


class SilenceOut(BaseModel):
    id: str
    event: str
    channel: str | None
    tenant: str | None
    reason: str | None
    created: datetime
    until: datetime
    active: bool


class SilencesOut(BaseModel):
    silences: list[SilenceOut]


class RetryOut(BaseModel):
    deliveries: list[DeliveryRef]


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ready", "not ready"]
    store: str
    problem: str | None = None
