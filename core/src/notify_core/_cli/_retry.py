"""``notify retry``: send failed deliveries again, keeping their ids and history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ._common import ConfigOpt, DbOpt, JsonOpt, WaitOpt, app
from ._shared import (
    UsageError,
    find_delivery,
    load_notifier,
    paint,
    print_json,
    since_time,
    wait_seconds,
)

if TYPE_CHECKING:  # loaded by the commands that use them, not for `notify --help`
    pass


@app.command()
def retry(
    ids: Annotated[list[str] | None, typer.Argument(metavar="ID...", help="Delivery ids.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Every failed delivery.")] = False,
    channel: Annotated[str | None, typer.Option(help="With --failed: only this channel.")] = None,
    since: Annotated[str | None, typer.Option(help="With --failed: only newer than 1d…")] = None,
    wait: WaitOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> int:
    """Requeue failed deliveries and attempt them now; each keeps its id and history.

    With the Celery executor configured, each is published as a task instead (and
    reported pending).

    Example: notify retry --failed --channel ml-slack --since 1d
    """
    import attrs

    from .._health import state_label

    if ids and failed:
        raise UsageError("give delivery IDs or --failed, not both")
    if not ids and not failed:
        raise UsageError("give the delivery IDs to retry, or --failed for every failed one")
    if (channel or since) and not failed:
        raise UsageError("--channel and --since go with --failed")
    wait = wait_seconds(wait)
    with load_notifier(config, db) as notifier:
        if failed:
            rows = notifier.store.query(
                status="failed", channel=channel, since=since_time(since), limit=None
            )
        else:
            rows = [find_delivery(notifier, i) for i in ids or []]
            not_failed = [r.id for r in rows if r.status not in ("failed", "skipped")]
            if not_failed:
                raise UsageError(
                    f"only failed or skipped deliveries can be retried: {', '.join(not_failed)}"
                )
        for key in sorted({r.channel_key for r in rows}):
            state = notifier.store.channel_state(key)
            if state.off:  # it goes out anyway: an explicit retry is what an incident needs
                typer.echo(
                    f"notify: warning: {key} is {state_label(state)}; retrying anyway "
                    f"(`notify enable {key.split('/')[-1]}` resumes its other deliveries)",
                    err=True,
                )
        results = notifier.retry([r.id for r in rows], wait=wait)
        handed_over = not notifier.executor.attempts_here
    if json_out:
        print_json([attrs.asdict(r) for r in results])
    else:
        if not results:
            typer.echo("nothing to retry")
        for r in results:
            typer.echo(
                f"{paint(r.status, 9)} {r.channel}  attempt {r.attempts}  {r.reason}  [{r.id}]"
            )
    if handed_over:  # published for Celery workers: queued is success
        return 0 if all(r.status in ("pending", "delivered") for r in results) else 1
    return 0 if all(r.status == "delivered" for r in results) else 1
