"""Every command module, imported for the commands it registers on the app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import (  # noqa: F401
    _channels,
    _groups,
    _init,
    _log,
    _plugins,
    _retry,
    _scaffold,
    _send_command,
    _serve,
    _silences,
    _stored,
    _worker,
)

if TYPE_CHECKING:
    from typer import _click  # typer's own click, whichever typer it is
    from typer.models import TyperInfo


def command_for(args: Sequence[str]) -> _click.Command:
    """The click command tree for this command line: only the branch it runs.

    typer builds a click command from every function's signature (~0.4 ms each, ~30
    of them) before it parses anything; ``notify send …`` needs one. When the first
    word that is not an option names a command or group, the tree holds only that
    one; otherwise (``notify --help``, an unknown word: the error lists the
    commands) it holds everything, as typer builds it.
    """
    import typer.main

    from ._common import app

    # the root's options are all flags, so the first other word is the command's name
    word = next((a for a in args if not a.startswith("-")), None)
    commands = [
        c
        for c in app.registered_commands
        if c.callback is not None
        and (c.name or typer.main.get_command_name(c.callback.__name__)) == word
    ]
    groups = [g for g in app.registered_groups if _group_name(g) == word]
    if not commands and not groups:
        return typer.main.get_command(app)
    every = app.registered_commands, app.registered_groups
    app.registered_commands, app.registered_groups = commands, groups
    try:
        return typer.main.get_command(app)
    finally:
        app.registered_commands, app.registered_groups = every


def _group_name(group: TyperInfo) -> str | None:
    """A sub-app's name: given to ``add_typer``, or to its ``Typer`` (typer's defaults)."""
    instance = group.typer_instance
    for given in (group.name, instance.info.name if instance else None):
        value = getattr(given, "value", given)  # typer wraps defaults in a placeholder
        if isinstance(value, str) and value:
            return value
    return None
