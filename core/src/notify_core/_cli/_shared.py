"""What the commands share that needs no typer: errors, loading a notifier, output.

``notify send`` runs without typer when its command line is plain (``_send_args``):
typer and what it imports are most of a one-message send's start-up. So what that
path needs lives here; ``_common`` holds the typer app and its options.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


def echo(line: str = "") -> None:
    """One line on stdout (``typer.echo`` without importing typer)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


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
#: SGR codes of those colours, as ``click.style`` writes them
_ANSI = {"green": 32, "red": 31, "yellow": 33, "cyan": 36, "bright_black": 90}
#: Columns that are never cut: ids are copied into `notify log show` and `notify retry`.
WHOLE = frozenset({"id"})


def colored() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def paint(status: str, width: int = 0) -> str:
    """A status word padded to ``width``, in its colour when the output is a terminal."""
    word = status.ljust(width)
    return f"\x1b[{_ANSI[COLORS[status]]}m{word}\x1b[0m" if status in COLORS and colored() else word
