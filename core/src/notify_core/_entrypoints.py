"""The plugins' entry points, read from a small cache while the installed set is unchanged.

Finding the ``notify_core.providers`` entry points the standard way imports
:mod:`importlib.metadata` (~30 ms) and reads every installed distribution's metadata
(~6 ms here, more in a large environment): a cost each ``notify`` command, and each
process that builds a :class:`~notify_core.Notifier`, paid before doing anything.
The answer changes only when a distribution is installed, upgraded or removed, and
each of those adds or removes a ``*.dist-info`` (or ``*.egg-info``) directory in a
directory of ``sys.path``: so the cache is keyed by the metadata directories those
directories hold, with their modification times (a ``listdir`` per directory and a
``stat`` per distribution, under a millisecond), and it is read without importing
:mod:`importlib.metadata` at all.

The cache is a JSON file under ``$NOTIFY_CACHE_DIR`` (default
``$XDG_CACHE_HOME/notify`` or ``~/.cache/notify``), one per interpreter.
It is only ever a copy: a missing, stale, corrupt or unwritable cache means a scan,
never an error; ``NOTIFY_CACHE_DIR=off`` turns it off.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import zlib
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path
from typing import NamedTuple

ENTRY_POINT_GROUP = "notify_core.providers"
CACHE_ENV = "NOTIFY_CACHE_DIR"
CORE_DISTRIBUTION = "notify-core"
#: bumped when the file's shape changes, so an old file reads as a miss
_FORMAT = 1
#: ``module.sub:attr.attr [extra]``, as the entry-point specification writes a value
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?(\[.*\]\s*)?$")


class PluginEntry(NamedTuple):
    """One entry point of the group, with the distribution that declares it."""

    name: str
    value: str
    distribution: str
    version: str

    def load(self) -> object:
        """Import the object the entry point names (what ``EntryPoint.load`` does)."""
        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"malformed entry point value {self.value!r}")
        obj: object = import_module(match["module"])
        for part in match["attr"].split(".") if match["attr"] else ():
            obj = getattr(obj, part)
        return obj


class Index(NamedTuple):
    """What the cache holds: the core's own version and the group's entry points."""

    core_version: str
    entries: tuple[PluginEntry, ...]


def cache_dir(env: dict[str, str] | None = None) -> Path | None:
    """Where the cache lives, or None when ``$NOTIFY_CACHE_DIR`` is ``off``."""
    env = env if env is not None else dict(os.environ)
    chosen = env.get(CACHE_ENV)
    if chosen:
        return None if chosen.lower() in ("off", "0", "none") else Path(chosen)
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "notify"


def fingerprint(path: Sequence[str]) -> list[list[object]]:
    """What changes when a distribution on ``path`` is installed, upgraded or removed.

    The metadata directories of each entry, with their modification times (pip
    writes a new one for every install or upgrade); not the entries' own times, which
    change with any file written beside them (a ``notify.db`` in the working
    directory that ``python -c`` puts on the path).
    """
    key: list[list[object]] = []
    for entry in path:
        where = entry or "."
        try:
            names = [n for n in os.listdir(where) if n.endswith((".dist-info", ".egg-info"))]
        except NotADirectoryError:  # a zip file on sys.path: its time says it all
            with contextlib.suppress(OSError):
                key.append([os.path.abspath(where), os.stat(where).st_mtime_ns])
            continue
        except OSError:
            continue  # an entry that does not exist holds no distribution
        found: list[list[object]] = []
        for name in sorted(names):
            try:
                found.append([name, os.stat(os.path.join(where, name)).st_mtime_ns])
            except OSError:
                continue  # removed while we looked: as if it were not there
        if found:
            key.append([os.path.abspath(where), found])
    return key


def scan(path: Sequence[str], group: str = ENTRY_POINT_GROUP) -> Index:
    """The group's entry points as ``importlib.metadata`` finds them (first on path wins)."""
    from importlib.metadata import distributions

    seen: set[str] = set()
    entries: list[PluginEntry] = []
    core_version = "0+unknown"
    for dist in distributions(path=list(path)):
        name = dist.metadata["Name"] or ""
        normal = re.sub(r"[-_.]+", "-", name).lower()
        if not name or normal in seen:
            continue
        seen.add(normal)
        if normal == CORE_DISTRIBUTION:
            core_version = dist.version
        for ep in dist.entry_points.select(group=group):
            entries.append(PluginEntry(ep.name, ep.value, name, dist.version))
    return Index(core_version, tuple(entries))


def plugin_index(
    group: str = ENTRY_POINT_GROUP,
    *,
    path: Sequence[str] | None = None,
    directory: Path | None = None,
    env: dict[str, str] | None = None,
) -> Index:
    """The group's entry points (and the core's version): cached, or scanned and cached."""
    path = list(sys.path if path is None else path)
    where = directory if directory is not None else cache_dir(env)
    if where is None:
        return scan(path, group)
    key = fingerprint(path)
    # one file per interpreter and group; the path list it was made for is in its key
    file = where / f"entry-points-{zlib.crc32(f'{sys.executable} {group}'.encode()):08x}.json"
    try:
        cached = json.loads(file.read_text(encoding="utf-8"))
        if cached.get("format") == _FORMAT and cached.get("key") == key:
            return Index(
                str(cached["core_version"]),
                tuple(PluginEntry(*map(str, e)) for e in cached["entries"]),
            )
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no cache yet, or not one we can read: scan
    index = scan(path, group)
    record = {
        "format": _FORMAT,
        "key": key,
        "core_version": index.core_version,
        "entries": [list(e) for e in index.entries],
    }
    try:
        where.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f"{file.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, file)  # whole or not at all, even with many processes starting
    except OSError:
        pass  # a read-only home: every run scans, as before the cache
    return index
