"""Routing: which channels a message goes to.

Explicit channel names win; otherwise a channel takes a message when one of its
``events`` globs matches the message's event and the severity reaches its floor. A
tenant with channels of its own uses them; a tenant without falls back to the root
channels (and the delivery still belongs to the tenant). Ad hoc channels
(``notify send --url``) are made here too: they exist for one send and are never stored.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._channel import Channel
from ._config import Config
from ._errors import ConfigError
from ._models import Message

#: Names of ad hoc channels start with this (``adhoc:slack``), so the log tells them apart.
ADHOC_PREFIX = "adhoc:"


class Router:
    """Looks channels up and routes messages, over one loaded configuration."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def channels(self, tenant: str | None = None) -> list[Channel]:
        """The channels a tenant's messages may go to: its own, else the root ones."""
        if tenant and self.config.tenants.get(tenant):
            return list(self.config.tenants[tenant])
        return list(self.config.channels)

    def channel(self, name: str, tenant: str | None = None) -> Channel:
        """A channel by name: the tenant's own first, then the root one it falls back to."""
        for channel in self.channels(tenant):
            if channel.name == name:
                return channel
        if tenant:
            for channel in self.config.channels:
                if channel.name == name:
                    return channel
        known = ", ".join(c.name for c in self.channels(tenant)) or "none"
        raise ConfigError(f"unknown channel {name!r} (configured: {known})")

    def route(
        self, message: Message, to: Sequence[str | Channel] | None = None, tenant: str | None = None
    ) -> list[Channel]:
        """Explicit ``to`` wins; otherwise channels whose events and severity floor match."""
        if to:
            return [c if isinstance(c, Channel) else self.channel(c, tenant) for c in to]
        return [
            c
            for c in self.channels(tenant)
            if message.severity >= c.min_severity
            and any(fnmatch.fnmatchcase(message.event, p) for p in c.events)
        ]


def for_tenant(channel: Channel, tenant: str | None) -> Channel:
    """The channel as a payload builder should see it when a tenant falls back to root.

    The delivery belongs to the tenant (its envelope, its Slack context line); health,
    buckets and the log keep the root channel's own key.
    """
    if tenant is None or channel.tenant == tenant:
        return channel
    return attrs.evolve(channel, tenant=tenant)


def adhoc_channel(
    url: str,
    provider: str,
    settings: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> Channel:
    """A channel for ``notify send --url``: not stored in any configuration."""
    return Channel(
        name=f"{ADHOC_PREFIX}{provider}",
        provider=provider,
        url=url,
        settings=dict(settings or {}),
        options=dict(options or {}),
        adhoc=True,
    )
