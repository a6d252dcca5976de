"""What every command shares: the app, global flags and options, loading a notifier, output."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .._duration import parse_duration
from .._errors import ConfigError, NotifyError

if TYPE_CHECKING:  # the pipeline loads when a command runs, not for `notify --help`
    from .._notifier import Notifier
    from .._store import DeliveryRow


class UsageError(NotifyError):
    """A malformed option value; the CLI prints it and exits 2."""


class _State:
    """Flags of the root command that every command reads."""

    debug: bool = False


state = _State()

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


def load_notifier(
    config: Path | None,
    db: str | Path | None,
    *,
    required: bool = True,
    implicit: bool = True,
    **kwargs: Any,
) -> Notifier:
    """A notifier from the configuration, or one without channels when none is needed."""
    from .._config import NO_CONFIG, find_config, load_config
    from .._notifier import Notifier
    from .._plugins import Providers

    providers = Providers.discover()
    found = find_config(config, implicit=implicit)
    if found is None:
        if required:
            raise ConfigError(NO_CONFIG)
        return Notifier(db=db, providers=providers, **kwargs)
    return Notifier(config=load_config(found, providers), db=db, providers=providers, **kwargs)


#: The longest a command may be told to wait: a day.
MAX_WAIT = 86_400.0


def wait_seconds(wait: float | None, option: str = "--wait") -> float | None:
    """A ``--wait`` value, refused when it is negative, not a number, or over a day."""
    if wait is not None and not (math.isfinite(wait) and 0 <= wait <= MAX_WAIT):
        raise UsageError(f"{option}: must be a number of seconds from 0 to {MAX_WAIT:g}")
    return wait


def since_time(value: str | None, option: str = "--since") -> float | None:
    """``--since 2h`` as an epoch time, or None."""
    if value is None:
        return None
    try:
        return time.time() - parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def find_delivery(notifier: Notifier, delivery_id: str) -> DeliveryRow:
    """The delivery an id (or an unambiguous prefix of one) names."""
    found = notifier.store.find(delivery_id)
    exact = [r for r in found if r.id == delivery_id]
    if exact:
        return exact[0]
    if not found:
        raise UsageError(f"no delivery {delivery_id!r} in {notifier.db_location}")
    if len(found) > 1:
        raise UsageError(f"{delivery_id!r} matches several deliveries; give more characters")
    return found[0]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def when(ts: float | None) -> str:
    """A stored epoch time as local ISO text, for humans."""
    if ts is None:
        return "-"
    from datetime import datetime

    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


#: Status words in colour on a terminal (https://no-color.org: ``NO_COLOR`` turns it off).
COLORS = {
    "delivered": "green",
    "failed": "red",
    "pending": "yellow",
    "sending": "cyan",
    "skipped": "bright_black",
}
#: Columns that are never cut: ids are copied into `notify log show` and `notify retry`.
WHOLE = frozenset({"id"})


def colored() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def paint(status: str, width: int = 0) -> str:
    """A status word padded to ``width``, in its colour when the output is a terminal."""
    word = status.ljust(width)
    return typer.style(word, fg=COLORS[status]) if status in COLORS and colored() else word


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
