"""The delivery log: list deliveries, show one, prune old ones."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .._duration import parse_duration
from ._common import ConfigOpt, DbOpt, JsonOpt, TenantOpt, app, table
from ._shared import UsageError, find_delivery, load_notifier, print_json, since_time, when

if TYPE_CHECKING:  # loaded by the commands that use them, not for `notify --help`
    from .._store import DeliveryRow


def _row_dict(row: DeliveryRow, carried: int | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "created": when(row.created),
        "event": row.event,
        "severity": row.severity,
        "tenant": row.tenant,
        "channel": row.channel,
        "provider": row.provider,
        "target": row.target,
        "status": row.status,
        "attempts": row.attempts,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "next_attempt": when(row.next_attempt) if row.status == "pending" else None,
        "meta": json.loads(row.meta) if row.meta else None,
        # a group's summary: how many items (grouped messages) it carried
        "carried": carried,
    }


log_app = typer.Typer(
    help="Deliveries, newest first; `notify log show ID` for one.", no_args_is_help=False
)
app.add_typer(log_app, name="log")


@log_app.callback(invoke_without_command=True)
def log(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    status: Annotated[
        str | None, typer.Option(help="pending, sending, delivered, failed or skipped.")
    ] = None,
    event: Annotated[str | None, typer.Option(help="Event glob, e.g. 'training.*'.")] = None,
    tenant: TenantOpt = None,
    since: Annotated[str | None, typer.Option(help="Only newer than 30m, 2h, 7d…")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1_000_000, help="At most this many rows.")] = 50,
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List deliveries newest first.

    Example: notify log --status failed --since 2h
    """
    from .._store import STATUSES

    if ctx.invoked_subcommand is not None:
        return
    if status is not None and status not in STATUSES:
        raise UsageError(f"--status {status!r}: choose one of {', '.join(STATUSES)}")
    after = since_time(since)  # a bad option is reported before any database is opened
    with load_notifier(config, db, required=False, read_only=True) as notifier:
        rows = notifier.store.query(
            channel=channel,
            status=status,  # checked against STATUSES above
            event=event,
            tenant=tenant,
            since=after,
            limit=limit,
        )
        carried = notifier.store.carried_counts([r.id for r in rows])
    if json_out:
        print_json([_row_dict(r, carried.get(r.id)) for r in rows])
        return
    shown = []
    for row in rows:
        item = _row_dict(row, carried.get(row.id))
        if row.id in carried:  # a summary: the event and how many it carried
            item["event"] = f"{row.event} ×{carried[row.id]}"
        item["tenant"] = row.tenant or "-"
        item["last_status"] = row.last_status or "-"
        item["last_error"] = (row.last_error or "")[:80]
        shown.append(item)
    table(
        shown,
        [
            "id",
            "created",
            "status",
            "tenant",
            "channel",
            "event",
            "attempts",
            "last_status",
            "last_error",
        ],
        empty="no deliveries",
    )


@log_app.command("show")
def log_show(
    delivery_id: Annotated[str, typer.Argument(metavar="ID", help="Delivery id (or a prefix).")],
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show one delivery: message, masked payload and every attempt.

    Example: notify log show 1a2056624f5
    """
    with load_notifier(config, db, required=False, read_only=True) as notifier:
        row = find_delivery(notifier, delivery_id)
        attempts = notifier.store.attempts(row.id)
        carried = notifier.store.carried(row.id)
        carriers = notifier.store.carriers(row.id)
    data = _row_dict(row, len(carried) if carried else None)
    data["carried_items"] = [
        {
            "delivery_id": c.item_delivery,
            "dedup_key": c.dedup_key,
            "state": c.state,
            "new": c.new,
            "title": c.title,
        }
        for c in carried
    ]
    data["carried_by"] = carriers
    data["throttled"] = row.throttled  # "slow down" answers since the budget began: free
    data["message"] = json.loads(row.message)
    data["payload"] = json.loads(row.payload) if row.payload else None
    data["attempts_log"] = [
        {
            "number": a.number,
            "started": when(a.started),
            "duration_ms": round(a.duration * 1000, 1),
            "http_status": a.http_status,
            "outcome": a.outcome,
            "reason": a.error,
            "response": a.response,
        }
        for a in attempts
    ]
    if json_out:
        print_json(data)
        return
    for key in (
        "id",
        "status",
        "channel",
        "tenant",
        "provider",
        "target",
        "event",
        "severity",
        "created",
        "attempts",
        "throttled",
        "last_error",
        "next_attempt",
    ):
        if data.get(key) not in (None, "", 0) or key == "attempts":
            typer.echo(f"{key:>12}: {data[key]}")
    if carriers:
        typer.echo(f"  carried by: {', '.join(carriers)} (a group's summary)")
    if carried:
        typer.echo(f"     carried: {len(carried)} items (grouped messages)")
        for n, c in enumerate(data["carried_items"], 1):
            mark = "new " if c["new"] else ""
            typer.echo(f"    item {n}: {c['delivery_id']} {mark}{c['state']}  {c['title']}")
    typer.echo("     message: " + json.dumps(data["message"], ensure_ascii=False))
    typer.echo("     payload: " + json.dumps(data["payload"], ensure_ascii=False, indent=2))
    for a in data["attempts_log"]:
        typer.echo(
            f"  attempt {a['number']}: {a['started']} {a['duration_ms']} ms "
            f"HTTP {a['http_status'] or '-'} {a['outcome']} {a['reason'] or ''}".rstrip()
        )
        if a["response"]:
            typer.echo(f"    response: {a['response'][:500]}")


@app.command()
def prune(
    older_than: Annotated[str, typer.Option("--older-than", help="Age: 30d, 12h…")],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask; needed off a terminal.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be removed.")
    ] = False,
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Delete finished deliveries (and their attempts) older than the given age.

    Pending and in-flight work is never removed. It asks first on a terminal; from a
    script or cron job, pass --yes. --dry-run counts without removing.

    Example: notify prune --older-than 30d --yes
    """
    try:
        age = parse_duration(older_than)
    except ValueError as exc:
        raise UsageError(f"--older-than: {exc}") from None
    with load_notifier(config, db, required=False, read_only=True) as notifier:
        count = notifier.store.prune(time.time() - age, dry_run=True)  # never creates one
    with load_notifier(config, db, required=False, read_only=dry_run) as notifier:
        before = time.time() - age
        if dry_run:
            removed = 0
        elif count == 0 or yes or _confirmed(count, older_than):
            removed = notifier.store.prune(before) if count else 0
        else:
            raise typer.Exit(1)
    if json_out:
        print_json({"removed": removed, "would_remove": count} if dry_run else {"removed": removed})
    elif dry_run:
        typer.echo(f"would remove {count} finished deliveries older than {older_than}")
    else:
        typer.echo(f"removed {removed} finished deliveries older than {older_than}")


def _confirmed(count: int, older_than: str) -> bool:
    """Ask on a terminal; refuse, with the way out, anywhere else."""
    question = f"remove {count} finished deliveries older than {older_than}?"
    if not sys.stdin.isatty():
        raise UsageError(f"prune would {question[:-1]}: pass --yes (or --dry-run to count only)")
    return typer.confirm(question.capitalize(), default=False)
