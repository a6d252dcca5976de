"""Stored channels as the router sees them: read from the store, decrypted, cached.

A stored channel's row holds its routing fields in clear (``spec``) and its
provider-specific part encrypted (``secrets``: ``url``, the provider's option keys,
``settings``). Joined again, they are the very table a ``[channels.NAME]`` would be, and
are built by the configuration reader (:func:`~notify_core._config.read_channel`), so a
stored channel is validated and behaves exactly like a configured one.

The cache follows the store: :meth:`Store.changes` says cheaply whether anything was
committed, :meth:`Store.stored_revision` whether stored channels were; only then are they
read and decrypted again. Another process's ``notify channels add`` is thus seen by a
running worker or server on its next routing, without a restart.

A channel that cannot be decrypted (no key, a wrong key) or built (its provider was
uninstalled) stays routable and carries the reason in :attr:`Channel.problem`: its
deliveries are recorded as failed with that reason, as a broken configured channel's are.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._channel import Channel
from ._config import read_channel
from ._errors import NotifyError, StoreError
from ._models import Severity
from ._plugins import Providers
from ._secrets import SecretBox
from ._store import Store, StoredChannel

#: The keys of a channel's table that are encrypted besides the provider's own keys.
SECRET_PART = ("url", "settings")


def split(table: Mapping[str, Any], providers: Providers) -> tuple[dict[str, Any], dict[str, Any]]:
    """A channel's table as ``(clear, secret)``: the routing fields, and the rest.

    Everything provider-specific is secret, not only what looks secret: a plugin may keep
    a credential under any setting name, and the routing fields are all a listing needs.
    """
    keys = set(SECRET_PART)
    with contextlib.suppress(NotifyError):
        keys.update(providers.spec(str(table.get("provider"))).channel_keys)
    clear = {k: v for k, v in table.items() if k not in keys and k != "description"}
    secret = {k: v for k, v in table.items() if k in keys}
    return clear, secret


def joined(record: StoredChannel, box: SecretBox) -> dict[str, Any]:
    """The record's full table, secrets decrypted (raises SecretKeyError)."""
    table: dict[str, Any] = json.loads(record.spec)
    table.update(box.decrypt(record.key, record.secrets))
    return table


def build(record: StoredChannel, providers: Providers, box: SecretBox) -> Channel:
    """The record as a routable channel; a broken one carries its problem."""
    try:
        channel = read_channel(joined(record, box), record.name, record.tenant, providers)
    except NotifyError as exc:
        return broken(record, str(exc))
    return attrs.evolve(channel, stored=True)


def broken(record: StoredChannel, problem: str) -> Channel:
    """A stored channel that cannot be used, keeping what routing needs of it."""
    try:
        spec = json.loads(record.spec)
    except ValueError:
        spec = {}
    kw: dict[str, Any] = {}
    events = spec.get("events")
    if isinstance(events, list) and all(isinstance(e, str) for e in events):
        kw["events"] = tuple(events)
    with contextlib.suppress(ValueError):
        kw["min_severity"] = Severity.parse(str(spec.get("min_severity", "info")))
    return Channel(
        name=record.name,
        provider=record.provider,
        tenant=record.tenant,
        stored=True,
        problem=problem,
        **kw,
    )


class StoredChannels:
    """The store's channels, by tenant, rebuilt only when the store says they changed."""

    def __init__(
        self, store: Callable[[], Store | None], providers: Providers, box: SecretBox
    ) -> None:
        self._store = store
        self.providers = providers
        self.box = box
        self._seen: tuple[int | None, int] | None = None
        self._revision: int | None = None
        self._by_tenant: dict[str | None, tuple[Channel, ...]] = {}

    def refresh(self) -> None:
        """Re-read when another process (or this one) changed stored channels."""
        try:
            store = self._store()
        except StoreError:  # no database yet (a read-only listing): nothing stored
            store = None
        if store is None:
            self._by_tenant, self._seen, self._revision = {}, None, None
            return
        changes = store.changes()
        if changes is not None and self._seen is not None and self._seen[0] == changes:
            return
        revision = store.stored_revision()
        self._seen = (changes, revision)
        if revision == self._revision:
            return
        by_tenant: dict[str | None, list[Channel]] = {}
        for record in store.stored_channels():
            by_tenant.setdefault(record.tenant, []).append(build(record, self.providers, self.box))
        self._by_tenant = {t: tuple(cs) for t, cs in by_tenant.items()}
        self._revision = revision

    def of(self, tenant: str | None) -> tuple[Channel, ...]:
        """A tenant's stored channels (``None``: the root-level ones); refreshed first."""
        self.refresh()
        return self._by_tenant.get(tenant, ())

    def all(self) -> list[Channel]:
        self.refresh()
        return [c for channels in self._by_tenant.values() for c in channels]

    def tenants(self) -> list[str]:
        self.refresh()
        return sorted(t for t in self._by_tenant if t is not None)
