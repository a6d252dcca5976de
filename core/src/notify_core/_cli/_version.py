"""``notify --version``: the core's version and each plugin distribution's.

Read from the entry-point cache (:mod:`notify_core._entrypoints`), so it imports no
plugin, no pipeline and not :mod:`importlib.metadata`: ``main`` answers it before
typer is even imported. ``notify plugins`` loads the plugins and lists their providers.
"""

from __future__ import annotations


def version_text() -> str:
    from .._entrypoints import plugin_index

    index = plugin_index()
    lines = [f"notify-core {index.core_version}"]
    lines += sorted(f"{e.distribution} {e.version}  (plugin {e.name})" for e in index.entries)
    return "\n".join(lines) + "\n"
