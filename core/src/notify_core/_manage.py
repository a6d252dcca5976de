"""Managing stored channels: add, edit, remove, test, audit, re-key; once, for every caller.

The CLI (``notify channels add …``), the API and the dashboard of notify serve all come
here, so a channel is validated the same way whoever adds it, in this order, before
anything is written:

1. the table is read by the configuration reader (:func:`~._config.read_channel`):
   the same keys, types and key-path errors as ``[channels.NAME]``;
2. the provider checks its destination (``validate_url``, its settings): an invalid URL
   says what shape the provider expects;
3. every ``events`` entry must be a glob or an event the configuration has a template
   for (``allow_unknown_events`` to pass one that has none): a typo would route nothing;
4. the name must not be a configured channel's in the same scope (those are read-only);
5. the secrets are encrypted, which needs ``NOTIFY_SECRET_KEY``.

Then the row and its audit entry are written in one transaction. Nothing shown
(results, errors, the audit) ever holds a secret: only the provider's masked display
and key names.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._announce import CHANNEL_DISABLED
from ._channel import Channel, attempt_cap
from ._config import read_channel, valid_name
from ._errors import ConfigError, InvalidTarget, NotifyError
from ._secrets import SECRET_KEY_ENV
from ._store import AuditAction, ChannelAudit, Store, StoredChannel, new_id
from ._stored import build, joined, split

if TYPE_CHECKING:
    from ._notifier import Notifier
    from ._results import DeliveryResult

#: Events notify itself sends, routable without a template.
BUILTIN_EVENTS = frozenset({"notify.test", CHANNEL_DISABLED})
_GLOB = frozenset("*?[")


class ChannelNotFound(NotifyError):
    """No stored channel by that name in that scope."""


class ChannelReadOnly(NotifyError):
    """The channel is configured (notify.toml, a tenant file): it cannot be changed here."""


class ChannelConflict(NotifyError):
    """A stored channel of that name exists already in that scope."""


@attrs.frozen
class Saved:
    """A stored channel as written: the row, and the channel built from it."""

    record: StoredChannel
    channel: Channel


def scope_path(name: str, tenant: str | None) -> str:
    return f"tenants.{tenant}.channels.{name}" if tenant else f"channels.{name}"


def merge_patch(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7396: tables merge key by key, ``None`` removes a key, anything else replaces."""
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_patch(out[key], value)
        else:
            out[key] = value
    return out


class ChannelManager:
    """Stored channels of one notifier's store, validated by its providers and config."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    @property
    def store(self) -> Store:
        return self.notifier.store

    # -- reading -----------------------------------------------------------------------

    def records(self, tenant: str | None = None, *, every: bool = True) -> list[StoredChannel]:
        """Stored rows: every scope's (``every``), or only ``tenant``'s (None: root)."""
        rows = self.store.stored_channels()
        return rows if every else [r for r in rows if r.tenant == tenant]

    def record(self, name: str, tenant: str | None) -> StoredChannel:
        found = self.store.stored_channel(name, tenant)
        if found is None:
            self._refuse_configured(name, tenant, "is configured, not stored")
            where = f" of tenant {tenant!r}" if tenant else ""
            raise ChannelNotFound(f"no stored channel {name!r}{where}")
        return found

    def channel(self, record: StoredChannel) -> Channel:
        return build(record, self.notifier.providers, self.notifier.secrets)

    def view(self, record: StoredChannel) -> dict[str, Any]:
        """The stored channel as people and clients see it: secrets masked, never in clear."""
        spec = json.loads(record.spec)
        channel = self.channel(record)
        view: dict[str, Any] = {
            "name": record.name,
            "tenant": record.tenant,
            "key": record.key,
            "provider": record.provider,
            "stored": True,
            "target": record.target,
            "events": list(spec.get("events", ["*"])),
            "min_severity": str(spec.get("min_severity", "info")),
            "description": record.description,
            "enabled": bool(spec.get("enabled", True)),
            "rate": spec.get("rate"),
            "retry": spec.get("retry"),
            "timeout": spec.get("timeout"),
            "cooldown": spec.get("cooldown"),
            "settings": None,
            "options": None,
            "created": record.created,
            "updated": record.updated,
            "created_by": record.created_by,
            "updated_by": record.updated_by,
            "problem": channel.problem,
        }
        if channel.problem is None:
            try:
                prepared = self.notifier.targets.prepare(channel)
            except NotifyError as exc:
                view["problem"] = str(exc)
            else:
                view["target"] = prepared.display
                view["settings"] = prepared.masker.data(dict(channel.settings))
                view["options"] = prepared.masker.data(dict(channel.options))
        return view

    def history(
        self, name: str | None = None, tenant: str | None = None, *, limit: int = 100
    ) -> list[ChannelAudit]:
        return list(self.store.channel_audit(channel=name, tenant=tenant, limit=limit))

    # -- changing ----------------------------------------------------------------------

    def add(
        self,
        name: str,
        table: Mapping[str, Any],
        *,
        tenant: str | None = None,
        actor: str | None = None,
        description: str | None = None,
        allow_unknown_events: bool = False,
    ) -> Saved:
        """Validate and store a new channel; raises with nothing written when it is wrong."""
        self._check_tenant(tenant)
        self._refuse_configured(name, tenant, "is a configured channel; choose another name")
        if description is None and isinstance(table.get("description"), str):
            description = table["description"]
        channel = self._validate(name, table, tenant, allow_unknown_events)
        now = self.notifier.clock.time()
        record = self._record(
            new_id(now), channel, table, tenant, description, now, now, actor, actor
        )
        audit = self._audit(record, "created", actor, f"{record.provider} → {record.target}")
        if not self.store.put_stored_channel(record, create=True, audit=audit):
            where = f" of tenant {tenant!r}" if tenant else ""
            raise ChannelConflict(
                f"a stored channel {name!r}{where} exists already; edit it instead"
            )
        return Saved(record, channel)

    def edit(
        self,
        name: str,
        patch: Mapping[str, Any],
        *,
        tenant: str | None = None,
        actor: str | None = None,
        allow_unknown_events: bool = False,
    ) -> Saved:
        """Apply a merge patch (``None`` removes a key) to a stored channel, validated anew."""
        self._check_tenant(tenant)
        old = self.record(name, tenant)
        patch = dict(patch)
        description = old.description
        if "description" in patch:
            description = patch.pop("description")
        if patch.get("provider") not in (None, old.provider) and "url" not in patch:
            raise ConfigError(
                "a channel that changes provider needs its new url too",
                path=f"{scope_path(name, tenant)}.url",
            )
        table = merge_patch(joined(old, self.notifier.secrets), patch)
        channel = self._validate(name, table, tenant, allow_unknown_events)
        now = self.notifier.clock.time()
        record = self._record(
            old.id, channel, table, tenant, description, old.created, now, old.created_by, actor
        )
        changed = sorted({*patch, *(["description"] if description != old.description else [])})
        audit = self._audit(record, "edited", actor, "changed " + (", ".join(changed) or "nothing"))
        if not self.store.put_stored_channel(record, create=False, audit=audit):
            raise ChannelNotFound(f"stored channel {old.key!r} was removed meanwhile")
        return Saved(record, channel)

    def remove(
        self, name: str, *, tenant: str | None = None, actor: str | None = None
    ) -> StoredChannel:
        old = self.record(name, tenant)
        audit = self._audit(old, "removed", actor, f"{old.provider} → {old.target}")
        if not self.store.remove_stored_channel(name, tenant, audit=audit):
            raise ChannelNotFound(f"stored channel {old.key!r} was removed meanwhile")
        return old

    def note_test(self, channel: Channel, result: DeliveryResult, actor: str | None = None) -> None:
        """Audit a test send to a stored channel: who pressed Test, and how it went."""
        if not channel.stored:
            return
        detail = f"{result.status} after {result.attempts} attempt(s), delivery {result.id}"
        if result.reason and result.status != "delivered":
            detail += f": {result.reason}"
        self.store.add_channel_audit(
            ChannelAudit(
                at=self.notifier.clock.time(),
                tenant=channel.tenant,
                channel=channel.name,
                action="tested",
                actor=actor,
                detail=detail[:500],
            )
        )

    def rotate(self, *, actor: str | None = None) -> tuple[int, int]:
        """Re-encrypt every stored channel with ``NOTIFY_SECRET_KEY``: ``(re-encrypted, total)``.

        Every channel is decrypted first (with the current or an old key): one that cannot
        be stops the rotation before anything is written, so it is never half done.
        """
        box = self.notifier.secrets
        box.check()
        records = self.records()
        plans = []
        for record in records:
            secrets = box.decrypt(record.key, record.secrets)  # raises naming the channel
            if not box.current(record.secrets):
                plans.append((record, secrets))
        now = self.notifier.clock.time()
        with self.store.transaction():
            for record, secrets in plans:
                fresh = attrs.evolve(
                    record, secrets=box.encrypt(record.key, secrets), updated=now, updated_by=actor
                )
                audit = self._audit(
                    fresh, "rekeyed", actor, f"re-encrypted with the current {SECRET_KEY_ENV}"
                )
                self.store.put_stored_channel(fresh, create=False, audit=audit)
        return len(plans), len(records)

    # -- validation --------------------------------------------------------------------

    def _check_tenant(self, tenant: str | None) -> None:
        if tenant is not None and not valid_name(tenant):
            raise ConfigError("tenant: tenant names use letters, digits, '-', '_' and '.'")

    def _refuse_configured(self, name: str, tenant: str | None, why: str) -> None:
        for channel in self.notifier.router.configured(tenant):
            if channel.name == name:
                where = f"tenant {tenant!r}'s " if tenant else ""
                raise ChannelReadOnly(
                    f"channel {name!r} {why} ({where}configuration is read-only here; "
                    f"change it in {self.notifier.config.source})"
                )

    def _validate(
        self, name: str, table: Mapping[str, Any], tenant: str | None, allow_unknown: bool
    ) -> Channel:
        if "description" in table:
            table = {k: v for k, v in table.items() if k != "description"}
        channel = read_channel(table, name, tenant, self.notifier.providers)
        path = scope_path(name, tenant)
        try:
            self.notifier.providers.validate(channel)
        except InvalidTarget as exc:
            raise ConfigError(str(exc), path=f"{path}.{exc.key}") from None
        if not allow_unknown:
            self._check_events(channel.events, f"{path}.events")
        # leases are sized from the configuration's channels when a process starts: a
        # stored channel added later must not outlast them (a second worker would retake it)
        lease = self.notifier.lease
        if attempt_cap(channel.timeout) + 1 > lease:
            longest = (lease - 2) / 1.5
            raise ConfigError(
                f"at most {longest:g}s with [notify].lease = {lease:g}s (raise the lease "
                "for longer attempts)",
                path=f"{path}.timeout",
            )
        return attrs.evolve(channel, stored=True)

    def _check_events(self, events: Iterable[str], path: str) -> None:
        templates = set(self.notifier.config.templates)
        if not templates:
            return  # no vocabulary declared: any event name may be emitted
        known = templates | BUILTIN_EVENTS
        for i, event in enumerate(events):
            if _GLOB & set(event) or event in known:
                continue
            close = difflib.get_close_matches(event, sorted(known), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"{event!r} matches no configured event template ({hint}known: "
                f"{', '.join(sorted(templates))}); use a glob such as "
                f"'{event.split('.')[0]}.*' to take events without a template",
                path=f"{path}[{i}]",
            )

    def _record(
        self,
        record_id: str,
        channel: Channel,
        table: Mapping[str, Any],
        tenant: str | None,
        description: str | None,
        created: float,
        updated: float,
        created_by: str | None,
        updated_by: str | None,
    ) -> StoredChannel:
        clear, secret = split(table, self.notifier.providers)
        scope = channel.key
        prepared = self.notifier.targets.prepare(channel)
        return StoredChannel(
            id=record_id,
            tenant=tenant,
            name=channel.name,
            provider=channel.provider,
            spec=json.dumps(clear, ensure_ascii=False, sort_keys=True),
            secrets=self.notifier.secrets.encrypt(scope, secret),
            target=prepared.display,
            description=description,
            created=created,
            updated=updated,
            created_by=created_by,
            updated_by=updated_by,
        )

    def _audit(
        self, record: StoredChannel, action: AuditAction, actor: str | None, detail: str
    ) -> ChannelAudit:
        return ChannelAudit(
            at=self.notifier.clock.time(),
            tenant=record.tenant,
            channel=record.name,
            action=action,
            actor=actor,
            detail=detail,
        )


def default_actor(via: str) -> str:
    """``cli:alice@host``: who, when nobody said (the login name and the machine)."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "?"
    return f"{via}:{user}@{socket.gethostname()}"
