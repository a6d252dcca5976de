"""``notify serve``: the HTTP API, Alertmanager receiver, metrics and dashboard.

They live in the optional notify-serve distribution (FastAPI, uvicorn, Jinja2,
prometheus_client), imported only when this command runs: other commands pay nothing,
and ``pip install notify-core`` stays light.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import ConfigOpt, DbOpt, GraceOpt, app
from ._shared import load_notifier

MISSING = "notify serve needs the notify-serve package: pip install notify-serve"


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: [serve].host, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Port (default: [serve].port, 8765; 0: any free)."),
    ] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Only accept; leave delivery to `notify worker`.")
    ] = False,
    grace: GraceOpt = 10.0,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> int:
    """Serve the HTTP API, the Alertmanager receiver, /metrics and the dashboard.

    Listens on 127.0.0.1:8765 and delivers with an in-process worker. Any other address
    needs tokens ([serve] tokens or NOTIFY_SERVE_TOKENS). SIGINT/SIGTERM stop it cleanly.

    Example: NOTIFY_SERVE_TOKENS=$(openssl rand -hex 32) notify serve --host 0.0.0.0
    """
    try:
        import notify_serve
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "notify_serve":
            raise
        typer.echo(MISSING, err=True)
        raise typer.Exit(2) from None
    notifier = load_notifier(config, db)
    return notify_serve.run(notifier, host=host, port=port, worker=not no_worker, grace=grace)
