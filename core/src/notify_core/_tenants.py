"""Per-tenant configuration files: ``[notify] tenants_dir = "configs"``.

``configs/<tenant>/notify.toml`` holds that tenant's ``[channels.*]`` (the layout of the
data-pipeline tool notify grew from). Each file is read when a message for its tenant
is routed, and read again only when its modification time or size changes, so a
long-lived process (a worker, ``notify serve``) sees an edit without a restart.

A missing file, or one that says ``[tenant] enabled = false``, gives no channels: the
tenant falls back to the root channels, as a tenant without channels always does. A file
that cannot be read (bad TOML, an unknown key) is not a fallback: the tenant's messages
fail with the reason, as a broken configured channel's do, rather than go elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs

from ._channel import Channel
from ._config import read_tenant_file, valid_name
from ._errors import ConfigError

#: The file each tenant's folder holds.
TENANT_FILE = "notify.toml"
#: The name of the channel that stands for a tenant file that cannot be read.
BROKEN_FILE_CHANNEL = "tenant-config"


@attrs.frozen
class _Loaded:
    stamp: tuple[int, int]
    enabled: bool
    channels: tuple[Channel, ...]


class TenantFiles:
    """The per-tenant files under one folder, each cached until it changes on disk."""

    def __init__(self, root: str | os.PathLike[str], providers: Any, env: Any = None) -> None:
        self.root = Path(root)
        self.providers = providers
        self.env = env
        self._cache: dict[str, _Loaded | None] = {}

    def path(self, tenant: str) -> Path:
        return self.root / tenant / TENANT_FILE

    def tenants(self) -> list[str]:
        """The tenants that have a file (for listings)."""
        try:
            found = [p.name for p in self.root.iterdir() if valid_name(p.name)]
            return sorted(name for name in found if self.path(name).is_file())
        except OSError:
            return []

    def enabled(self, tenant: str) -> bool | None:
        """``True``/``False`` as the tenant's file says; ``None`` when it has none."""
        loaded = self._load(tenant)
        return None if loaded is None else loaded.enabled

    def channels(self, tenant: str) -> tuple[Channel, ...]:
        """The tenant's channels from its file; none when the file is missing or disabled."""
        loaded = self._load(tenant)
        if loaded is None or not loaded.enabled:
            return ()
        return loaded.channels

    def _load(self, tenant: str) -> _Loaded | None:
        if not valid_name(tenant):
            return None  # a tenant name is never a path: no "../" out of the folder
        path = self.path(tenant)
        try:
            st = path.stat()
        except OSError:
            self._cache.pop(tenant, None)
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        cached = self._cache.get(tenant)
        if cached is not None and cached.stamp == stamp:
            return cached
        try:
            enabled, channels = read_tenant_file(path, self.providers, tenant, self.env)
        except ConfigError as exc:
            enabled = True
            channels = (
                Channel(name=BROKEN_FILE_CHANNEL, provider="?", tenant=tenant, problem=str(exc)),
            )
        loaded = self._cache[tenant] = _Loaded(stamp, enabled, channels)
        return loaded
