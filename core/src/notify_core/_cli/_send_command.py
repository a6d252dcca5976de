"""``notify send`` as typer declares it: its options, their help, and ``--help``.

The work is :func:`._send.run_send`; a plain command line reaches it without typer
(``_send_args``), and a test holds the two parsers to the same options.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import ConfigOpt, DbOpt, JsonOpt, app
from ._send import run_send


@app.command(no_args_is_help=False)
def send(
    title: Annotated[
        str | None,
        typer.Option("--title", "-t", help="The headline (required)."),
    ] = None,
    body: Annotated[str, typer.Option("--body", "-b", help="Text; '-' reads stdin.")] = "",
    event: Annotated[str, typer.Option(help="Event name, used for routing.")] = "",
    severity: Annotated[
        str, typer.Option("--severity", "-s", help="info, warning, error or critical.")
    ] = "info",
    field: Annotated[
        list[str] | None,
        typer.Option("--field", "-f", help="KEY=VALUE shown with the message (repeatable)."),
    ] = None,
    action: Annotated[
        list[str] | None, typer.Option("--action", "-a", help="LABEL=URL button (repeatable).")
    ] = None,
    state: Annotated[
        str,
        typer.Option(
            help="Incident state: trigger, acknowledge or resolve (PagerDuty acts on it)."
        ),
    ] = "trigger",
    dedup_key: Annotated[str | None, typer.Option(help="Identifies repeats of one alert.")] = None,
    thread_id: Annotated[
        str | None,
        typer.Option(help="Messages with the same one form a thread (Slack with a bot token)."),
    ] = None,
    to: Annotated[
        list[str] | None,
        typer.Option("--to", help="Channel name (repeatable); default: route by --event."),
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Send to this URL, no configuration needed.")
    ] = None,
    provider: Annotated[
        str | None, typer.Option(help="Provider of --url (default: inferred).")
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            "-o",
            help="KEY=VALUE channel key of the --url provider (PagerDuty's routing_key); "
            "repeatable.",
        ),
    ] = None,
    setting: Annotated[
        list[str] | None,
        typer.Option(
            "--setting",
            help="KEY=VALUE setting of the --url channel (a.b=… nests; true, false and "
            "numbers are typed); repeatable.",
        ),
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant whose channels to use.")] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the payloads, masked; send and store nothing.")
    ] = False,
    json_out: JsonOpt = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No status line while waiting on a terminal.")
    ] = False,
    wait: Annotated[
        float | None,
        typer.Option(
            help="Seconds to wait for final outcomes (default: [notify].wait, 30); what "
            "still waits for a retry stays queued for `notify worker`. 0 only queues.",
            show_default=False,
        ),
    ] = None,
) -> int:
    """Send one notification.

    Example: notify send -t "Backup done" -b "42 GB in 3 min" --to ops

    Example: notify send --url https://example.com/hook --provider webhook -t "Deployed"

    Example: notify send --url https://events.pagerduty.com/v2/enqueue
    --option routing_key=$PD_KEY -t "Disk full" -s error
    """
    return run_send(**locals())  # the parameters, and nothing else yet
