"""The store's part: rows unique per scope (NULL tenant included), each change audited in
its own transaction, and a revision that another connection sees move."""

from __future__ import annotations

import attrs

from notify_core import ChannelAudit, StoredChannel
from notify_core._store import open_store


def _record(name: str, tenant: str | None, spec: str = "{}") -> StoredChannel:
    return StoredChannel(
        id=f"id-{tenant}-{name}",
        tenant=tenant,
        name=name,
        provider="webhook",
        spec=spec,
        secrets="gAAAA-not-a-real-token",
        target="https://example.com/****",
        description=None,
        created=1.0,
        updated=1.0,
        created_by="test",
        updated_by="test",
    )


def _audit(name: str, tenant: str | None, action: str = "created") -> ChannelAudit:
    return ChannelAudit(at=2.0, tenant=tenant, channel=name, action=action, actor="test")  # type: ignore[arg-type]


def test_stored_channels_are_unique_per_scope_and_every_change_is_audited(store_db: str) -> None:
    db = store_db
    store = open_store(db)
    other = open_store(db)  # another process's connection
    assert other.stored_revision() == 0
    assert store.put_stored_channel(_record("a", None), create=True, audit=_audit("a", None))
    # the same name at the root again: refused, and its audit entry not written either
    dup = attrs.evolve(_record("a", None), id="other-id")
    assert not store.put_stored_channel(dup, create=True, audit=_audit("a", None))
    assert store.put_stored_channel(_record("a", "acme"), create=True, audit=_audit("a", "acme"))
    assert [(r.tenant, r.name) for r in other.stored_channels()] == [(None, "a"), ("acme", "a")]
    seen = other.stored_revision()
    assert seen == 2  # one per committed change, none for the refused duplicate
    assert len(other.channel_audit()) == 2

    changed = attrs.evolve(_record("a", "acme"), spec='{"events": ["x.*"]}', updated=3.0)
    assert store.put_stored_channel(changed, create=False, audit=_audit("a", "acme", "edited"))
    assert other.stored_revision() > seen
    found = other.stored_channel("a", "acme")
    assert found is not None and found.spec == '{"events": ["x.*"]}' and found.created == 1.0
    assert not store.put_stored_channel(
        _record("nope", None), create=False, audit=_audit("nope", None, "edited")
    )

    store.add_channel_audit(_audit("a", None, "tested"))
    assert store.remove_stored_channel("a", None, audit=_audit("a", None, "removed"))
    assert not store.remove_stored_channel("a", None, audit=_audit("a", None, "removed"))
    assert other.stored_channel("a", None) is None
    assert [e.action for e in other.channel_audit(channel="a", tenant=None)] == [
        "removed",
        "tested",
        "edited",
        "created",
        "created",
    ]
    assert [e.action for e in other.channel_audit(tenant="acme")] == ["edited", "created"]
    store.close()
    other.close()
