"""A channel: one configured destination, and the policies notify applies to it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._digest import DigestPolicy
from ._group_policy import GroupPolicy
from ._models import Severity


@attrs.frozen
class Rate:
    """A token bucket: ``per_second`` sustained, up to ``burst`` at once."""

    per_second: float
    burst: int = 1

    def __attrs_post_init__(self) -> None:
        if not self.per_second > 0:
            raise ValueError("per_second must be greater than 0")
        if self.burst < 1:
            raise ValueError("burst must be at least 1")


@attrs.frozen
class RetryPolicy:
    """How transient failures are retried.

    ``attempts`` counts every try, the first included, except those the provider
    answered "slow down" (429): those cost nothing. The delay before try *n+1* is
    drawn uniformly from ``[0, min(max_delay, backoff * 2**(n-1))]`` ("full jitter", so
    many clients failing together do not retry together), unless the provider said
    when to come back (``Retry-After``), which wins, however long it is. ``deadline``
    (seconds since the message was accepted, or since a manual retry) bounds it all:
    a delivery whose next try would fall after it fails instead.
    """

    attempts: int = 5
    backoff: float = 1.0
    max_delay: float = 300.0
    deadline: float = 86_400.0

    def __attrs_post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.backoff < 0 or self.max_delay < 0:
            raise ValueError("backoff and max_delay must not be negative")
        if not self.deadline > 0:
            raise ValueError("deadline must be greater than 0")


def _severity(value: str | Severity) -> Severity:
    return Severity.parse(value)


@attrs.frozen(kw_only=True)
class Channel:
    """A named destination as configured (or built ad hoc for ``--url``).

    ``url`` and the values in ``options`` may be secrets: never log or store them
    unmasked; :func:`notify_core.mask` and the core's store do that for you.
    ``options`` holds the provider-specific top-level keys a provider declares in
    :attr:`ProviderSpec.channel_keys` (e.g. PagerDuty's ``routing_key``), ``settings``
    the free-form provider settings table.
    """

    name: str
    provider: str
    # secrets live in these three: kept out of reprs, which end up in logs and tracebacks
    url: str | None = attrs.field(default=None, repr=False)
    options: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    settings: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    events: tuple[str, ...] = ("*",)
    min_severity: Severity = attrs.field(default=Severity.INFO, converter=_severity)
    rate: Rate | None = None
    retry: RetryPolicy | None = None
    timeout: float = 10.0
    verify_tls: bool = True
    enabled: bool = True
    tenant: str | None = None
    cooldown: float | None = None
    #: bursts become one message (``group = {...}``), or a scheduled summary (``digest``)
    group: GroupPolicy | None = None
    digest: DigestPolicy | None = None
    adhoc: bool = False
    #: kept in the store (``notify channels add``, the API), not in a configuration file
    stored: bool = False
    #: why this configured channel cannot be used (an unset ``${VAR}``, a bad key): its
    #: deliveries are recorded as failed with it instead of stopping other channels
    problem: str | None = None

    @property
    def key(self) -> str:
        """Unique across tenants: ``name`` for root channels, ``tenant/name`` otherwise."""
        return f"{self.tenant}/{self.name}" if self.tenant else self.name


def attempt_cap(timeout: float) -> float:
    """The hard limit on one attempt: the client's timeout, plus room for a plugin's work."""
    return timeout * 1.5 + 1
