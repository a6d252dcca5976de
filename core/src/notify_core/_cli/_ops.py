"""Operating notify: channels, check, test, log, retry, enable/disable, prune."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import attrs
import typer

from .._config import find_config, load_config
from .._duration import parse_duration
from .._errors import ConfigError, NotifyError
from .._models import Message
from .._notifier import Notifier
from .._plugins import Providers
from .._store import DeliveryRow
from ._common import ConfigOpt, DbOpt, JsonOpt, app, load_notifier, print_json, table, when

TenantOpt = Annotated[str | None, typer.Option("--tenant", help="The channel's tenant.")]
WaitOpt = Annotated[
    float | None,
    typer.Option(
        help="Seconds to wait for final outcomes (default: [notify].wait, 30).",
        show_default=False,
    ),
]


class UsageError(NotifyError):
    """A malformed option value."""


def _since(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return time.time() - parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None


def _channel_state(notifier: Notifier, key: str, enabled_in_config: bool) -> dict[str, Any]:
    state = notifier.store.channel_state(key)
    if not enabled_in_config:
        label = "disabled in configuration"
    elif state.auto_disabled:
        label = f"auto-disabled: {state.disabled_reason}"
    elif state.disabled:
        reason = state.disabled_reason
        label = (
            f"disabled by hand: {reason}"
            if reason and reason != "disabled by hand"
            else ("disabled by hand")
        )
    else:
        label = "enabled"
    return {
        "state": label,
        "last_success": when(state.last_success) if state.last_success else None,
        "consecutive_failures": state.consecutive_failures,
        "last_error": state.last_error,
    }


@app.command()
def channels(config: ConfigOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """List configured channels with their target (masked), routing, rate and health.

    Example: notify channels --json
    """
    with load_notifier(config, db) as notifier:
        rows = []
        for channel in notifier.config.all_channels():
            spec = notifier.providers.spec(channel.provider)
            try:
                target = notifier.prepare(channel).display
            except NotifyError as exc:
                target = f"INVALID: {exc}"
            rate = channel.rate or spec.default_rate
            rows.append(
                {
                    "channel": channel.name,
                    "tenant": channel.tenant,
                    "provider": channel.provider,
                    "target": target,
                    "events": list(channel.events),
                    "min_severity": channel.min_severity.value,
                    "rate": {"per_second": rate.per_second, "burst": rate.burst},
                    **_channel_state(notifier, channel.key, channel.enabled),
                }
            )
    if json_out:
        print_json(rows)
        return
    for row in rows:
        row["events"] = ",".join(row["events"])
        row["rate"] = f"{row['rate']['per_second']:g}/s burst {row['rate']['burst']}"
        row["tenant"] = row["tenant"] or "-"
        row["last_success"] = row["last_success"] or "-"
    table(
        rows,
        [
            "channel",
            "tenant",
            "provider",
            "target",
            "events",
            "min_severity",
            "rate",
            "state",
            "last_success",
            "consecutive_failures",
        ],
        empty="no channels",
    )


@app.command()
def check(config: ConfigOpt = None, json_out: JsonOpt = False) -> int:
    """Validate the configuration and every channel's URL or key; exit 2 on any problem.

    Example: notify check --config notify.toml
    """
    providers = Providers.discover()
    path = find_config(config)
    if path is None:
        raise ConfigError(
            "no configuration: pass --config, set NOTIFY_CONFIG, or create ./notify.toml"
        )
    problems: list[ConfigError] = []
    try:
        loaded = load_config(path, providers, problems=problems)
    except ConfigError as exc:  # the file itself, or [notify]: nothing more to check
        if not json_out:
            raise
        print_json(
            {"ok": False, "channels": 0, "problems": [{"path": exc.path, "message": str(exc)}]}
        )
        return 2
    notifier = Notifier(config=loaded, providers=providers, db=":memory:")
    checked = 0
    for channel in loaded.all_channels():
        checked += 1
        try:
            notifier.prepare(channel)
        except ConfigError as exc:
            problems.append(exc)
    if json_out:
        print_json(
            {
                "ok": not problems,
                "channels": checked,
                "problems": [{"path": p.path, "message": str(p)} for p in problems],
            }
        )
    else:
        for problem in problems:
            typer.echo(str(problem), err=True)
        if not problems:
            typer.echo(f"{path}: ok ({checked} channels, {len(loaded.templates)} templates)")
    return 2 if problems else 0


@app.command("test")
def send_test(
    channel: Annotated[str, typer.Argument(help="Channel name.")],
    tenant: TenantOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    wait: WaitOpt = None,
    json_out: JsonOpt = False,
) -> int:
    """Send a clearly labelled test notification to one channel and show the answer.

    Example: notify test ml-slack
    """
    with load_notifier(config, db) as notifier:
        target = notifier.channel(channel, tenant)
        message = Message(
            title=f"notify test: {target.name}",
            body="This is a test notification sent by `notify test`. No action is needed.",
            event="notify.test",
            fields={"channel": target.key, "provider": target.provider},
            dedup_key=f"notify.test:{target.key}:{time.time()}",
        )
        result = notifier.send(message, [target], tenant=tenant, wait=wait)
        [delivery] = result.deliveries
        attempts = notifier.store.attempts(delivery.id)
        spec = notifier.providers.spec(target.provider)
        if delivery.status == "delivered" and "resolve" in spec.capabilities:
            # an incident tool opened an incident for the test: close it again
            notifier.send(
                attrs.evolve(message, state="resolve"), [target], tenant=tenant, wait=wait
            )
    answer = attempts[-1].response if attempts else None
    if json_out:
        print_json({**attrs.asdict(delivery), "response": answer})
    else:
        typer.echo(
            f"{delivery.status}: {target.key} ({target.provider}) after "
            f"{delivery.attempts} attempt(s); {delivery.reason}"
        )
        if answer:
            typer.echo(f"provider answered: {answer[:300]}")
    return 0 if delivery.status == "delivered" else 1


def _row_dict(row: DeliveryRow) -> dict[str, Any]:
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
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 50,
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List deliveries newest first.

    Example: notify log --status failed --since 2h
    """
    if ctx.invoked_subcommand is not None:
        return
    statuses = ("pending", "sending", "delivered", "failed", "skipped")
    if status is not None and status not in statuses:
        raise UsageError(f"--status {status!r}: choose one of {', '.join(statuses)}")
    with load_notifier(config, db, required=False) as notifier:
        rows = notifier.store.query(
            channel=channel,
            status=status,
            event=event,
            tenant=tenant,
            since=_since(since),
            limit=limit,
        )
    if json_out:
        print_json([_row_dict(r) for r in rows])
        return
    shown = []
    for row in rows:
        item = _row_dict(row)
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
    with load_notifier(config, db, required=False) as notifier:
        row = _find(notifier, delivery_id)
        attempts = notifier.store.attempts(row.id)
    data = _row_dict(row)
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
        "last_error",
        "next_attempt",
    ):
        if data.get(key) not in (None, ""):
            typer.echo(f"{key:>12}: {data[key]}")
    typer.echo("     message: " + json.dumps(data["message"], ensure_ascii=False))
    typer.echo("     payload: " + json.dumps(data["payload"], ensure_ascii=False, indent=2))
    for a in data["attempts_log"]:
        typer.echo(
            f"  attempt {a['number']}: {a['started']} {a['duration_ms']} ms "
            f"HTTP {a['http_status'] or '-'} {a['outcome']} {a['reason'] or ''}".rstrip()
        )
        if a["response"]:
            typer.echo(f"    response: {a['response'][:500]}")


def _find(notifier: Notifier, delivery_id: str) -> DeliveryRow:
    found = notifier.store.find(delivery_id)
    exact = [r for r in found if r.id == delivery_id]
    if exact:
        return exact[0]
    if not found:
        raise UsageError(f"no delivery {delivery_id!r} in {notifier.db_path}")
    if len(found) > 1:
        raise UsageError(f"{delivery_id!r} matches several deliveries; give more characters")
    return found[0]


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

    Example: notify retry --failed --channel ml-slack --since 1d
    """
    if bool(ids) == failed:
        raise UsageError("give delivery IDs or --failed (not both)")
    if (channel or since) and not failed:
        raise UsageError("--channel and --since go with --failed")
    with load_notifier(config, db) as notifier:
        if failed:
            rows = notifier.store.query(
                status="failed", channel=channel, since=_since(since), limit=None
            )
        else:
            rows = [_find(notifier, i) for i in ids or []]
            not_failed = [r.id for r in rows if r.status not in ("failed", "skipped")]
            if not_failed:
                raise UsageError(
                    f"only failed or skipped deliveries can be retried: {', '.join(not_failed)}"
                )
        results = notifier.retry([r.id for r in rows], wait=wait)
    if json_out:
        print_json([attrs.asdict(r) for r in results])
    else:
        if not results:
            typer.echo("nothing to retry")
        for r in results:
            typer.echo(f"{r.status:<9} {r.channel}  attempt {r.attempts}  {r.reason}  [{r.id}]")
    return 0 if all(r.status == "delivered" for r in results) else 1


def _switch(
    name: str, tenant: str | None, config: Any, db: Any, enabled: bool, reason: str | None
) -> None:
    with load_notifier(config, db) as notifier:
        channel = notifier.channel(name, tenant)
        notifier.store.set_enabled(channel.key, enabled, reason)
        state = _channel_state(notifier, channel.key, channel.enabled)["state"]
    typer.echo(f"{channel.key}: {state}")


@app.command()
def enable(
    channel: Annotated[str, typer.Argument(help="Channel name.")],
    tenant: TenantOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Re-enable a channel disabled by hand or automatically (clears its failure count).

    Example: notify enable ml-slack
    """
    _switch(channel, tenant, config, db, True, None)


@app.command()
def disable(
    channel: Annotated[str, typer.Argument(help="Channel name.")],
    reason: Annotated[str | None, typer.Option(help="Why, shown by `notify channels`.")] = None,
    tenant: TenantOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Stop delivering to a channel; its deliveries are recorded as skipped.

    Example: notify disable ml-slack --reason "channel archived"
    """
    _switch(channel, tenant, config, db, False, reason)


@app.command()
def prune(
    older_than: Annotated[str, typer.Option("--older-than", help="Age: 30d, 12h…")],
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Delete finished deliveries (and their attempts) older than the given age.

    Pending and in-flight work is never removed.

    Example: notify prune --older-than 30d
    """
    try:
        age = parse_duration(older_than)
    except ValueError as exc:
        raise UsageError(f"--older-than: {exc}") from None
    with load_notifier(config, db, required=False) as notifier:
        removed = notifier.store.prune(time.time() - age)
    if json_out:
        print_json({"removed": removed})
    else:
        typer.echo(f"removed {removed} finished deliveries older than {older_than}")


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
    try:
        duration = parse_duration(for_)
    except ValueError as exc:
        raise UsageError(f"--for: {exc}") from None
    if duration <= 0:
        raise UsageError("--for: must be longer than 0s")
    with load_notifier(config, db, required=False) as notifier:
        if channel is not None and notifier.config.all_channels():
            notifier.channel(channel, tenant)  # a typo would silence nothing
        made = notifier.store.add_silence(
            event=event, until=time.time() + duration, channel=channel, tenant=tenant, reason=reason
        )
    if json_out:
        print_json(_silence_dict(made))
    else:
        typer.echo(
            f"silenced {event} on {channel or 'every channel'} until {when(made.until)} [{made.id}]"
        )


def _silence_dict(s: Any) -> dict[str, Any]:
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
    with load_notifier(config, db, required=False) as notifier:
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
