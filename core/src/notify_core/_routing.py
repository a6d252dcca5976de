"""Routing: which channels a message goes to.

Explicit channel names win; otherwise a channel takes a message when one of its
``events`` globs matches the message's event and the severity reaches its floor. A
tenant with channels of its own uses them; a tenant without falls back to the root
channels (and the delivery still belongs to the tenant). A tenant's own channels come
from ``[tenants.T.channels.*]``, its per-tenant file (``[notify] tenants_dir``, see
:mod:`._tenants`) and the store (:mod:`._stored`); root channels from ``[channels.*]``
and the store's root-level channels. Configured ones win a name clash. Ad hoc channels
(``notify send --url``) are made here too: they exist for one send and are never stored.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._channel import Channel
from ._config import Config
from ._errors import ConfigError
from ._models import Message

if TYPE_CHECKING:
    from ._stored import StoredChannels
    from ._tenants import TenantFiles

#: Names of ad hoc channels start with this (``adhoc:slack``), so the log tells them apart.
ADHOC_PREFIX = "adhoc:"


class Router:
    """Looks channels up and routes messages, over one loaded configuration.

    ``stored`` and ``tenant_files`` add the store's channels and per-tenant files; both
    are consulted on every lookup and cache what they read until it changes.
    """

    def __init__(
        self,
        config: Config,
        *,
        stored: StoredChannels | None = None,
        tenant_files: TenantFiles | None = None,
    ) -> None:
        self.config = config
        self.stored = stored
        self.tenant_files = tenant_files

    def configured(self, tenant: str | None) -> list[Channel]:
        """A scope's read-only channels: notify.toml's, and the tenant's file's."""
        if tenant is None:
            return list(self.config.channels)
        own = list(self.config.tenants.get(tenant, ()))
        if self.tenant_files is not None:
            own.extend(self.tenant_files.channels(tenant))
        return own

    def own(self, tenant: str | None) -> list[Channel]:
        """A scope's own channels, configured then stored (a stored one never shadows)."""
        channels = self.configured(tenant)
        if self.stored is not None:
            taken = {c.name for c in channels}
            channels.extend(c for c in self.stored.of(tenant) if c.name not in taken)
        return channels

    def channels(self, tenant: str | None = None) -> list[Channel]:
        """The channels a tenant's messages may go to: its own, else the root ones."""
        if tenant:
            own = self.own(tenant)
            if own:
                return own
        return self.own(None)

    def all_channels(self) -> list[Channel]:
        """Every channel of every scope (listings): root, then each tenant's."""
        tenants = set(self.config.tenants)
        if self.tenant_files is not None:
            tenants.update(self.tenant_files.tenants())
        if self.stored is not None:
            tenants.update(self.stored.tenants())
        out = self.own(None)
        for tenant in sorted(tenants):
            out.extend(self.own(tenant))
        return out

    def channel(self, name: str, tenant: str | None = None) -> Channel:
        """A channel by name: the tenant's own first, then the root one it falls back to."""
        for channel in self.channels(tenant):
            if channel.name == name:
                return channel
        if tenant:
            for channel in self.own(None):
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
