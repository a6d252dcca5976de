"""Channels: list them, check them, test one, switch one off and on."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .._errors import ConfigError, NotifyError, StoreError
from ._common import ActorOpt, ConfigOpt, DbOpt, JsonOpt, TenantOpt, WaitOpt, app, table
from ._shared import load_notifier, print_json, wait_seconds, when

if TYPE_CHECKING:  # loaded by the commands that use them, not for `notify --help`
    from .._channel import Channel
    from .._models import Message
    from .._notifier import Notifier


def _channel_state(notifier: Notifier, key: str, enabled_in_config: bool) -> dict[str, Any]:
    from .._health import state_label
    from .._store import ChannelState

    try:
        state = notifier.store.channel_state(key)
    except StoreError:  # nothing sent yet: no database, no history
        state = ChannelState(channel=key)
    return {
        "state": state_label(state, enabled_in_config),
        "last_success": when(state.last_success) if state.last_success else None,
        "consecutive_failures": state.consecutive_failures,
        "last_error": state.last_error,
    }


#: ``notify channels``: the list by itself, and the stored channels' commands (``add``…).
channels_app = typer.Typer(
    name="channels",
    help="List every channel, configured and stored (SOURCE), with its masked target, "
    "routing, rate and health; add, edit, remove and test stored ones.\n\n"
    "Example: notify channels --json",
    invoke_without_command=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(channels_app)


@channels_app.callback()
def channels(
    ctx: typer.Context,
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Only this tenant's channels.")
    ] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List channels (configured and stored) with their target (masked), routing, rate and health.

    Stored channels (added with `notify channels add`, the API or the dashboard) say
    "stored" in the SOURCE column; the others come from configuration files.

    Example: notify channels --json
    """
    if ctx.invoked_subcommand is not None:
        return
    with load_notifier(config, db, read_only=True, required=False) as notifier:
        rows = []
        for channel in notifier.all_channels():
            if tenant is not None and channel.tenant != tenant:
                continue
            spec = notifier.providers.installed.get(channel.provider)
            try:
                target = notifier.describe(channel)
            except NotifyError as exc:
                target = f"INVALID: {exc}"
            rate = channel.rate or (spec.spec.default_rate if spec else None)
            rows.append(
                {
                    "channel": channel.name,
                    "tenant": channel.tenant,
                    "provider": channel.provider,
                    "source": "stored" if channel.stored else "config",
                    "target": target,
                    "events": list(channel.events),
                    "min_severity": channel.min_severity.value,
                    "rate": {"per_second": rate.per_second, "burst": rate.burst} if rate else None,
                    **_channel_state(notifier, channel.key, channel.enabled),
                }
            )
    if json_out:
        print_json(rows)
        return
    for row in rows:
        row["events"] = ",".join(row["events"])
        rate = row["rate"]
        row["rate"] = f"{rate['per_second']:g}/s burst {rate['burst']}" if rate else "-"
        row["tenant"] = row["tenant"] or "-"
        row["last_success"] = row["last_success"] or "-"
    table(
        rows,
        [
            "channel",
            "tenant",
            "provider",
            "source",
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
    from .._config import DEFAULT_EXECUTOR, NO_CONFIG, find_config, load_config
    from .._executor import load_executor
    from .._notifier import Notifier
    from .._plugins import Providers

    providers = Providers.discover()
    path = find_config(config)
    if path is None:
        raise ConfigError(NO_CONFIG)
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
    if loaded.executor != DEFAULT_EXECUTOR:
        try:  # finds the executor and reads its table ([celery]); connects to nothing
            load_executor(loaded.executor, loaded.source)(notifier).close()
        except ConfigError as exc:
            problems.append(exc)
    checked = 0
    warnings: list[dict[str, str]] = []
    files = notifier.router.tenant_files
    tenant_channels = []
    for tenant in files.tenants() if files is not None else ():
        assert files is not None
        for channel in files.channels(tenant):  # per-tenant files: their problems too
            if channel.problem:
                problems.append(ConfigError(channel.problem))
            tenant_channels.append(channel)
    for channel in [*loaded.all_channels(), *tenant_channels]:
        checked += 1
        if channel.problem:
            continue  # already among the problems the load collected
        try:
            notifier.describe(channel)
        except ConfigError as exc:
            problems.append(exc)
            continue
        warning = _trial_build(notifier, channel)
        if warning:
            warnings.append(warning)
    if json_out:
        print_json(
            {
                "ok": not problems,
                "channels": checked,
                "problems": [{"path": p.path, "message": str(p)} for p in problems],
                "warnings": warnings,
            }
        )
    else:
        for problem in problems:
            typer.echo(str(problem), err=True)
        for warning in warnings:
            typer.echo(f"{path}: {warning['path']}: warning: {warning['message']}", err=True)
        if not problems:
            typer.echo(f"{path}: ok ({checked} channels, {len(loaded.templates)} templates)")
    return 2 if problems else 0


def _trial() -> Message:
    """What a trial payload is built from: a message with every part filled in."""
    from .._models import Message

    return Message(
        title="notify check",
        body="A trial message.",
        event="notify.check",
        fields={"field": "value"},
    )


def _trial_build(notifier: Notifier, channel: Channel) -> dict[str, str] | None:
    """Build a payload for a trial message: what only a real message can tell.

    A failure is a warning, not a problem: a webhook template naming ``{host}`` fails
    for the trial message, and works for every event whose data has ``host``.
    """
    where = f"tenants.{channel.tenant}.channels" if channel.tenant else "channels"
    try:
        notifier.providers.build(channel, _trial(), "check")
    except NotifyError as exc:
        return {
            "path": f"{where}.{channel.name}",
            "message": f"a trial message could not be built ({exc}); messages without "
            "what it needs will fail on this channel",
        }
    return None


@app.command("test")
def send_test(
    channel: Annotated[str, typer.Argument(help="Channel name.")],
    tenant: TenantOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    wait: WaitOpt = None,
    json_out: JsonOpt = False,
    actor: ActorOpt = None,
) -> int:
    """Send a clearly labelled test notification to one channel and show the answer.

    The test is sent from this process even when the configuration hands deliveries
    to another executor (Celery): the point is to see the service's answer here.

    Example: notify test ml-slack
    """
    import attrs

    from .._manage import default_actor
    from .._models import Message

    wait = wait_seconds(wait)
    with load_notifier(config, db, executor="local") as notifier:
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
        notifier.stored_channels.note_test(target, delivery, actor or default_actor("cli"))
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
