"""``notify channels add|edit|remove|test|history|rotate-key|generate-key``: stored channels.

Channels kept in the store, scoped to a tenant (``--tenant``) or at the root, their
secrets encrypted with ``NOTIFY_SECRET_KEY``. They are validated as configured ones
are (:mod:`notify_core._manage`); nothing given here is ever echoed in full: the output
shows the provider's masked display, errors name keys, never values.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .._secrets import SECRET_KEY_ENV, generate_key
from ._channels import channels_app, send_test
from ._common import ActorOpt, ConfigOpt, DbOpt, JsonOpt, TenantOpt, WaitOpt, table
from ._shared import UsageError, load_notifier, print_json, when

if TYPE_CHECKING:  # loaded by the commands that use them, not for `notify --help`
    from .._notifier import Notifier
    from .._store import ChannelAudit

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The channel's name.")]
Provider = Annotated[
    str | None,
    typer.Option(help="The provider (see `notify plugins`); inferred from --url when omitted."),
]
Url = Annotated[
    str | None,
    typer.Option(help="The destination URL; '-' reads it from standard input (no shell history)."),
]
Events = Annotated[
    list[str] | None,
    typer.Option("--events", help="Event globs, comma separated or repeated (default: '*')."),
]
Settings = Annotated[
    list[str] | None, typer.Option("--setting", help="A provider setting KEY=VALUE (repeatable).")
]
Options = Annotated[
    list[str] | None,
    typer.Option("--option", help="A provider key KEY=VALUE, e.g. routing_key=… (repeatable)."),
]
Description = Annotated[str | None, typer.Option(help="What the channel is for.")]
MinSeverity = Annotated[
    str | None, typer.Option("--min-severity", help="info, warning, error or critical.")
]
RatePerSecond = Annotated[
    float | None, typer.Option("--rate", help="Messages per second (default: the provider's).")
]
Burst = Annotated[int | None, typer.Option(help="Messages allowed at once above --rate.")]
Attempts = Annotated[int | None, typer.Option(help="Tries per delivery, the first included.")]
Cooldown = Annotated[str | None, typer.Option(help="Skip repeats for this long: 30s, 5m…")]
Timeout = Annotated[float | None, typer.Option(help="Seconds one attempt may take.")]
AnyEvent = Annotated[
    bool,
    typer.Option(
        "--allow-unknown-events", help="Accept event names that no configured template has."
    ),
]


def _url(value: str | None) -> str | None:
    if value != "-":
        return value
    line = sys.stdin.readline().strip()
    if not line:
        raise UsageError("--url -: standard input held no URL")
    return line


def _events(values: Sequence[str] | None) -> list[str] | None:
    if values is None:
        return None
    events = [e.strip() for v in values for e in v.split(",") if e.strip()]
    if not events:
        raise UsageError("--events: give at least one event or glob")
    return events


def _table(
    notifier: Notifier,
    *,
    provider: str | None,
    url: str | None,
    events: list[str] | None,
    settings: list[str] | None,
    options: list[str] | None,
    min_severity: str | None,
    rate: float | None,
    burst: int | None,
    attempts: int | None,
    cooldown: str | None,
    timeout: float | None,
    enabled: bool | None,
) -> dict[str, Any]:
    """The options as a channel table, as ``[channels.NAME]`` would hold it."""
    from ._adhoc import adhoc_options, adhoc_settings

    table: dict[str, Any] = {}
    if provider is not None:
        table["provider"] = provider
    if url is not None:
        table["url"] = url
    if events is not None:
        table["events"] = events
    if options:
        spec = notifier.providers.spec(provider) if provider else None
        if spec is None:
            raise UsageError("--option: give --provider too (options are the provider's keys)")
        table.update(adhoc_options(options, spec))
    if settings:
        table["settings"] = adhoc_settings(settings)
    if min_severity is not None:
        table["min_severity"] = min_severity
    if rate is not None or burst is not None:
        if rate is None:
            raise UsageError("--burst: give --rate too")
        table["rate"] = {"per_second": rate, **({"burst": burst} if burst is not None else {})}
    if attempts is not None:
        table["retry"] = {"attempts": attempts}
    if cooldown is not None:
        table["cooldown"] = cooldown
    if timeout is not None:
        table["timeout"] = timeout
    if enabled is not None:
        table["enabled"] = enabled
    return table


def _show(view: dict[str, Any], verb: str, json_out: bool) -> None:
    """What ``add`` and ``edit`` print: the saved channel, masked, as JSON or one line."""
    if json_out:
        print_json({**view, "created": when(view["created"]), "updated": when(view["updated"])})
        return
    problem = f" ({view['problem']})" if view.get("problem") else ""
    shown = f"{view['provider']} → {view['target']}{problem}"
    typer.echo(f"{verb} stored channel {view['key']}: {shown}")


@channels_app.command("add")
def add(
    name: NameArg,
    provider: Provider = None,
    url: Url = None,
    events: Events = None,
    tenant: TenantOpt = None,
    setting: Settings = None,
    option: Options = None,
    description: Description = None,
    min_severity: MinSeverity = None,
    rate: RatePerSecond = None,
    burst: Burst = None,
    attempts: Attempts = None,
    cooldown: Cooldown = None,
    timeout: Timeout = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Store it switched off.")] = False,
    allow_unknown_events: AnyEvent = False,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Store a new channel (for --tenant, or at the root), validated as notify.toml's are.

    Its URL, provider keys and settings are encrypted with NOTIFY_SECRET_KEY.

    Example: notify channels add alerts --tenant acme --provider slack --url - --events 'training.*'
    """
    from .._manage import default_actor

    url = _url(url)
    with load_notifier(config, db, required=False) as notifier:
        if provider is None:
            if url is None:
                raise UsageError("--provider: give it (or a --url it can be inferred from)")
            provider = notifier.providers.infer(url)
        spec = _table(
            notifier,
            provider=provider,
            url=url,
            events=_events(events),
            settings=setting,
            options=option,
            min_severity=min_severity,
            rate=rate,
            burst=burst,
            attempts=attempts,
            cooldown=cooldown,
            timeout=timeout,
            enabled=False if disabled else None,
        )
        saved = notifier.stored_channels.add(
            name,
            spec,
            tenant=tenant,
            actor=actor or default_actor("cli"),
            description=description,
            allow_unknown_events=allow_unknown_events,
        )
        view = notifier.stored_channels.view(saved.record)
    _show(view, "added", json_out)


@channels_app.command("edit")
def edit(
    name: NameArg,
    provider: Provider = None,
    url: Url = None,
    events: Events = None,
    tenant: TenantOpt = None,
    setting: Settings = None,
    option: Options = None,
    description: Description = None,
    min_severity: MinSeverity = None,
    rate: RatePerSecond = None,
    burst: Burst = None,
    attempts: Attempts = None,
    cooldown: Cooldown = None,
    timeout: Timeout = None,
    enabled: Annotated[
        bool | None, typer.Option("--enabled/--disabled", help="Switch it on or off.")
    ] = None,
    unset: Annotated[
        list[str] | None,
        typer.Option(help="Remove a key, e.g. cooldown or settings.method (repeatable)."),
    ] = None,
    allow_unknown_events: AnyEvent = False,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Change a stored channel: only what is given changes; it is validated again.

    --setting and --option merge into what is there; --unset removes a key.

    Example: notify channels edit alerts --tenant acme --events 'training.*,deploy.*'
    """
    from .._manage import default_actor

    url = _url(url)
    with load_notifier(config, db, required=False) as notifier:
        current = notifier.stored_channels.record(name, tenant)
        patch = _table(
            notifier,
            provider=provider or (current.provider if option else None),
            url=url,
            events=_events(events),
            settings=setting,
            options=option,
            min_severity=min_severity,
            rate=rate,
            burst=burst,
            attempts=attempts,
            cooldown=cooldown,
            timeout=timeout,
            enabled=enabled,
        )
        if provider is None:
            patch.pop("provider", None)
        if description is not None:
            patch["description"] = description
        for key in unset or ():
            *parents, last = key.split(".")
            at = patch
            for part in parents:
                at = at.setdefault(part, {})
            at[last] = None
        if not patch:
            raise UsageError("nothing to change: give the options to change (see --help)")
        saved = notifier.stored_channels.edit(
            name,
            patch,
            tenant=tenant,
            actor=actor or default_actor("cli"),
            allow_unknown_events=allow_unknown_events,
        )
        view = notifier.stored_channels.view(saved.record)
    _show(view, "edited", json_out)


@channels_app.command("remove")
def remove(
    name: NameArg,
    tenant: TenantOpt = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask; needed off a terminal.")
    ] = False,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Delete a stored channel (its secrets with it). It asks first on a terminal.

    Example: notify channels remove alerts --tenant acme --yes
    """
    from .._manage import default_actor

    with load_notifier(config, db, required=False) as notifier:
        record = notifier.stored_channels.record(name, tenant)
        if not yes:
            question = f"remove stored channel {record.key} ({record.provider} → {record.target})?"
            if not sys.stdin.isatty():
                raise UsageError(f"would {question[:-1]}: pass --yes")
            if not typer.confirm(question.capitalize(), default=False):
                raise typer.Exit(1)
        notifier.stored_channels.remove(name, tenant=tenant, actor=actor or default_actor("cli"))
    typer.echo(f"removed stored channel {record.key}")


@channels_app.command("test")
def channel_test(
    name: NameArg,
    tenant: TenantOpt = None,
    wait: WaitOpt = None,
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> int:
    """Send a labelled test notification to a channel (stored or configured): `notify test`.

    Example: notify channels test alerts --tenant acme
    """
    return send_test(name, tenant, config, db, wait, json_out, actor)


def _audit_dict(entry: ChannelAudit) -> dict[str, Any]:
    return {
        "at": when(entry.at),
        "tenant": entry.tenant,
        "channel": entry.channel,
        "action": entry.action,
        "actor": entry.actor,
        "detail": entry.detail,
    }


@channels_app.command("history")
def history(
    name: Annotated[str | None, typer.Argument(metavar="[NAME]", help="Only this channel.")] = None,
    tenant: TenantOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 50,
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Who created, changed, tested or removed stored channels, and when (newest first).

    Example: notify channels history alerts --tenant acme --json
    """
    with load_notifier(config, db, required=False, read_only=True) as notifier:
        entries = notifier.stored_channels.history(name, tenant, limit=limit)
    rows = [_audit_dict(e) for e in entries]
    if json_out:
        print_json(rows)
        return
    for row in rows:
        row["tenant"] = row["tenant"] or "-"
        row["actor"] = row["actor"] or "-"
        row["detail"] = row["detail"] or ""
    table(rows, ["at", "tenant", "channel", "action", "actor", "detail"], empty="no changes")


@channels_app.command("rotate-key")
def rotate_key(
    actor: ActorOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Re-encrypt every stored channel with NOTIFY_SECRET_KEY (old keys in NOTIFY_SECRET_KEYS_OLD).

    All or nothing: a channel no key opens stops it before anything is written.

    Example: NOTIFY_SECRET_KEY=$NEW NOTIFY_SECRET_KEYS_OLD=$OLD notify channels rotate-key
    """
    from .._manage import default_actor

    started = time.monotonic()
    with load_notifier(config, db, required=False) as notifier:
        done, total = notifier.stored_channels.rotate(actor=actor or default_actor("cli"))
    if json_out:
        print_json({"reencrypted": done, "channels": total})
    else:
        typer.echo(
            f"re-encrypted {done} of {total} stored channels with {SECRET_KEY_ENV} "
            f"({time.monotonic() - started:.2f}s); old keys may now be dropped"
        )


@channels_app.command("generate-key")
def new_key() -> None:
    """Print a new random key for NOTIFY_SECRET_KEY (keep it like a password).

    Example: export NOTIFY_SECRET_KEY=$(notify channels generate-key)
    """
    typer.echo(generate_key())
