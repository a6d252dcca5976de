"""``notify init``: a commented starter configuration for the providers installed here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._common import app
from ._shared import UsageError

if TYPE_CHECKING:  # loaded by the commands that use them, not for `notify --help`
    from .._plugins import Providers

HEAD = """\
# notify configuration: every key is described in docs/configuration.md.
# `notify check` validates this file; `notify channels` lists what it configures.
# Secrets come from the environment: write "${NAME}" and export NAME.

[notify]
db = "notify.db"                 # the outbox and delivery log ($NOTIFY_DB overrides)
# wait = "30s"                   # how long `notify send` waits for final outcomes
# auto_disable_after = 10        # consecutive failures before a channel is switched off

# A channel that prints on the terminal: try `notify send -t "Hello"`.
[channels.terminal]
provider = "console"
events = ["*"]                   # event globs this channel takes ("training.*")
# min_severity = "info"          # info, warning, error or critical
"""

TEMPLATE = """\
# [events."training.complete"]   # turn `notify send --event …` / Notifier.emit data into a message
# title = "Training complete: {experiment}"
# fields = { Accuracy = "{accuracy}" }
"""


def _guess(name: str, providers: Providers) -> str:
    """The keys of a channel for a provider that declares no example."""
    spec = providers.spec(name)
    env = name.upper().replace("-", "_")
    lines = [f'url = "${{{env}_URL}}"'] if spec.requires_url else []
    for key in spec.channel_keys:
        secret = key in spec.secret_keys
        lines.append(f'{key} = "${{{env}_{key.upper()}}}"' if secret else f'# {key} = "…"')
    return "\n".join(lines)


def _channel(name: str, providers: Providers) -> str:
    spec = providers.spec(name)
    keys = spec.example.strip() or _guess(name, providers)
    if not keys.startswith("provider"):
        keys = f'provider = "{name}"\n{keys}'
    lines = [f"# {spec.description}" if spec.description else f"# {name}"]
    lines.append(f"# [channels.my-{name}]")
    lines += [
        line if line.startswith("#") else f"# {line}" if line.strip() else "#"
        for line in keys.splitlines()
    ]
    return "\n".join(lines) + "\n"


def starter(providers: Providers) -> str:
    """The text of a starter configuration: valid TOML, every real channel commented out."""
    parts = [HEAD]
    for name in providers.installed:
        if name != "console":
            parts.append(_channel(name, providers))
    parts.append(TEMPLATE)
    return "\n".join(parts)


@app.command()
def init(
    path: Annotated[
        Path, typer.Argument(help="Where to write it (default: ./notify.toml).")
    ] = Path("notify.toml"),  # _config.DEFAULT_CONFIG, without importing the pipeline
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter configuration for the installed providers.

    Example: notify init && notify send -t "Hello"
    """
    from .._plugins import Providers

    if path.exists() and not force:
        raise UsageError(f"{path} exists; pass --force to overwrite it")
    try:
        path.write_text(starter(Providers.discover()), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    typer.echo(f"wrote {path}: edit it, then run `notify check`")
