"""``notify plugins``: what is installed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from ._common import JsonOpt, app
from ._shared import print_json

if TYPE_CHECKING:  # loaded by the commands that use them, not for `notify --help`
    pass


@app.command()
def plugins(json_out: JsonOpt = False) -> None:
    """List installed providers with their distribution and version.

    Example: notify plugins --json
    """
    from .._plugins import Providers

    installed = Providers.discover().installed
    if json_out:
        print_json(
            [
                {
                    "provider": name,
                    "plugin": p.plugin,
                    "distribution": p.distribution,
                    "version": p.version,
                    "description": p.spec.description,
                    "capabilities": sorted(p.spec.capabilities),
                    "default_rate": {
                        "per_second": float(p.spec.default_rate.per_second),
                        "burst": p.spec.default_rate.burst,
                    },
                    "default_retry": {
                        "attempts": p.spec.default_retry.attempts,
                        "backoff": p.spec.default_retry.backoff,
                        "max_delay": p.spec.default_retry.max_delay,
                    },
                    "url_patterns": [u.pattern for u in p.spec.url_patterns],
                    "channel_keys": list(p.spec.channel_keys),
                    "max_payload_bytes": p.spec.max_payload_bytes,
                    "limits": dict(p.spec.limits),
                }
                for name, p in installed.items()
            ]
        )
        return
    if not installed:
        typer.echo("no providers installed; try `pip install notify-webhook`")
        return
    for name, p in installed.items():
        typer.echo(f"{name:<12} {p.distribution} {p.version}  {p.spec.description}".rstrip())
