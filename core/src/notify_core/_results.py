"""What callers get back: one result per delivery, grouped by message; and dry-run plans."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from ._store import DeliveryStatus


@attrs.frozen(kw_only=True)
class DeliveryResult:
    """How one delivery (one message to one channel) stands."""

    id: str
    channel: str
    tenant: str | None
    provider: str
    status: DeliveryStatus
    attempts: int = 0
    reason: str = ""
    http_status: int | None = None
    next_attempt: float | None = None

    @property
    def ok(self) -> bool:
        """Delivered, or deliberately not sent (a kill switch, a silence, a cooldown)."""
        return self.status in ("delivered", "skipped")


@attrs.frozen
class SendResult:
    """What became of one message: a result per channel it was routed to."""

    message_id: str
    deliveries: tuple[DeliveryResult, ...]

    @property
    def ok(self) -> bool:
        """True when every delivery was delivered (or deliberately skipped)."""
        return bool(self.deliveries) and all(d.ok for d in self.deliveries)

    def by_status(self, status: DeliveryStatus) -> list[DeliveryResult]:
        return [d for d in self.deliveries if d.status == status]


@attrs.frozen
class PlannedDelivery:
    """What ``--dry-run`` shows: where a message would go and the masked payload."""

    channel: str
    tenant: str | None
    provider: str
    target: str
    payload: Mapping[str, Any]
    skip: str | None = None


@attrs.frozen(kw_only=True)
class Progress:
    """What a delivery is doing now, for someone watching (``notify send`` on a terminal).

    ``phase`` is ``attempt`` when an attempt starts, ``retry`` when one ended and the next
    is scheduled at ``next_attempt`` (epoch seconds) for ``reason``, ``done`` when the
    delivery reached ``status``. After an attempt (``retry``, ``done``), ``outcome``
    (``delivered``, ``retry``, ``failed``), ``duration`` (seconds) and ``http_status``
    describe it, as the attempt log keeps it (secrets masked): what metrics count.
    """

    delivery_id: str
    channel: str
    provider: str
    phase: Literal["attempt", "retry", "done"]
    attempt: int
    status: str = ""
    reason: str = ""
    next_attempt: float | None = None
    outcome: str = ""
    duration: float | None = None
    http_status: int | None = None
