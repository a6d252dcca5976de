"""Silences: skip matching deliveries for a while (a planned outage, a known flap)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .._duration import parse_duration
from ._common import ConfigOpt, DbOpt, JsonOpt, TenantOpt, app, table
from ._shared import UsageError, load_notifier, print_json, when

if TYPE_CHECKING:  # loaded by the commands that use them, not for `notify --help`
    from .._store import Silence


@app.command()
def silence(
    event: Annotated[str, typer.Option(help="Event glob to silence, e.g. 'training.*'.")],
    for_: Annotated[str, typer.Option("--for", help="How long: 30m, 2h, 1d…")],
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    tenant: TenantOpt = None,
    reason: Annotated[str | None, typer.Option(help="Why, shown in the log.")] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Record matching deliveries as skipped for a while (a planned outage, a known flap).

    Example: notify silence --event "training.*" --channel ml-slack --for 2h --reason "maintenance"
    """
    from .._store import Silence, new_id

    try:
        duration = parse_duration(for_)
    except ValueError as exc:
        raise UsageError(f"--for: {exc}") from None
    if duration <= 0:
        raise UsageError("--for: must be longer than 0s")
    with load_notifier(config, db, required=False) as notifier:
        if channel is not None and notifier.all_channels():
            notifier.channel(channel, tenant)  # a typo would silence nothing
        now = time.time()
        made = Silence(
            id=new_id(now),
            created=now,
            until=now + duration,
            event=event,
            channel=channel,
            tenant=tenant,
            reason=reason,
        )
        notifier.store.add_silence(made)
    if json_out:
        print_json(_silence_dict(made))
    else:
        typer.echo(
            f"silenced {event} on {channel or 'every channel'} until {when(made.until)} [{made.id}]"
        )


def _silence_dict(s: Silence) -> dict[str, Any]:
    return {
        "id": s.id,
        "event": s.event,
        "channel": s.channel,
        "tenant": s.tenant,
        "reason": s.reason,
        "created": when(s.created),
        "until": when(s.until),
        "active": s.until > time.time(),
    }


@app.command()
def silences(
    all_: Annotated[bool, typer.Option("--all", help="Include expired silences.")] = False,
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List silences in force (or all of them).

    Example: notify silences --json
    """
    with load_notifier(config, db, required=False, read_only=True) as notifier:
        found = notifier.store.silences(active_at=None if all_ else time.time())
    rows = [_silence_dict(s) for s in found]
    if json_out:
        print_json(rows)
        return
    for row in rows:
        row["channel"] = row["channel"] or "*"
        row["tenant"] = row["tenant"] or "*"
        row["reason"] = row["reason"] or ""
    table(rows, ["id", "event", "channel", "tenant", "until", "reason"], empty="no silences")


@app.command()
def unsilence(
    silence_id: Annotated[str, typer.Argument(metavar="ID", help="Silence id.")],
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """End a silence now.

    Example: notify unsilence 1a2056b7ce8aa6fe041c5
    """
    with load_notifier(config, db, required=False) as notifier:
        if not notifier.store.remove_silence(silence_id):
            raise UsageError(f"no silence {silence_id!r}")
    typer.echo(f"removed silence {silence_id}")
