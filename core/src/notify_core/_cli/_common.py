"""What every command shares: the app, global flags and options, tables.

What a command needs without typer (errors, loading a notifier, output) is in
``_shared``: ``notify send`` runs without typer on a plain command line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ._shared import COLORS, WHOLE, state

app = typer.Typer(
    name="notify",
    help="Deliver notifications to Slack, Teams, PagerDuty, webhooks and plugin channels.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if not value:
        return
    from ._version import version_text

    typer.echo(version_text(), nl=False)
    raise typer.Exit(0)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="Show the versions of the core and plugins.",
        ),
    ] = False,
) -> None:
    """notify: one command for every notification channel.

    Configuration is read from --config, $NOTIFY_CONFIG, or ./notify.toml.
    Exit codes: 0 all delivered, 1 something failed or is still pending, 2 usage or
    configuration error.
    """
    state.debug = debug


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Configuration file (default: $NOTIFY_CONFIG, ./notify.toml)."
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="The store: a SQLite file or a postgresql:// URL (default: $NOTIFY_DB, "
        "[notify].db, ./notify.db).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
#: ``notify worker`` and ``notify serve``: how long a shutdown waits for attempts in flight
GraceOpt = Annotated[float, typer.Option(help="Seconds in-flight attempts get on shutdown.")]
TenantOpt = Annotated[str | None, typer.Option("--tenant", help="The channel's tenant.")]
ActorOpt = Annotated[
    str | None,
    typer.Option("--actor", help="Who does this, for the audit (default: cli:USER@HOST)."),
]
WaitOpt = Annotated[
    float | None,
    typer.Option(
        help="Seconds to wait for final outcomes (default: [notify].wait, 30).",
        show_default=False,
    ),
]


def table(rows: list[dict[str, Any]], columns: list[str], *, empty: str = "nothing") -> None:
    """Rows as a rich table on a terminal, as aligned plain text otherwise (pipes, logs)."""
    if not rows:
        typer.echo(empty)
        return
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        out = Table(box=None, header_style="bold")
        for c in columns:
            if c in WHOLE:
                longest = max(len(str(r.get(c, ""))) for r in rows)
                out.add_column(c, no_wrap=True, min_width=longest)
            else:
                out.add_column(c, overflow="fold")
        for row in rows:
            out.add_row(
                *(
                    Text(str(row.get(c, "")), style=COLORS.get(str(row.get(c)), ""))
                    if c == "status"
                    else str(row.get(c, ""))
                    for c in columns
                )
            )
        Console(no_color=bool(os.environ.get("NO_COLOR")) or None).print(out)
        return
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    typer.echo("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        typer.echo("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns).rstrip())
