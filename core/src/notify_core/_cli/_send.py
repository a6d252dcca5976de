"""``notify send``: one message, now, to configured channels or an ad hoc URL.

No typer here: typer parses the command line in ``_send_command`` (and ``--help``),
``_send_args`` parses a plain one without it; both call :func:`run_send`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, cast

from ._shared import (
    UsageError,
    echo,
    load_notifier,
    paint,
    print_json,
    wait_seconds,
    when,
)

if TYPE_CHECKING:  # loaded by the commands that use them, not for `notify --help`
    from pathlib import Path

    from .._channel import Channel
    from .._models import Action, IncidentState, Message
    from .._results import SendResult


def parse_pair(value: str, option: str, what: str) -> tuple[str, str]:
    """``KEY=VALUE`` (the value may contain ``=``); a clear error otherwise."""
    key, sep, rest = value.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"{option} {value!r}: expected {what}")
    return key.strip(), rest


def parse_action(value: str) -> Action:
    from .._models import Action

    label, url = parse_pair(value, "--action", "LABEL=URL")
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--action {value!r}: the URL must start with http:// or https://")
    return Action(label, url)


def run_send(
    *,
    title: str | None = None,
    body: str = "",
    event: str = "",
    severity: str = "info",
    field: list[str] | None = None,
    action: list[str] | None = None,
    state: str = "trigger",
    dedup_key: str | None = None,
    thread_id: str | None = None,
    to: list[str] | None = None,
    url: str | None = None,
    provider: str | None = None,
    option: list[str] | None = None,
    setting: list[str] | None = None,
    tenant: str | None = None,
    config: Path | None = None,
    db: str | None = None,
    dry_run: bool = False,
    json_out: bool = False,
    quiet: bool = False,
    wait: float | None = None,
) -> int:
    """Send one notification: the options of ``notify send``, parsed."""
    import attrs

    from .._models import Field, Message, Severity
    from .._routing import adhoc_channel
    from ._adhoc import adhoc_options, adhoc_settings
    from ._progress import StatusLine

    if title is None:
        raise UsageError("send: --title/-t is required")
    if body == "-":  # a log tail may hold any bytes: they must not lose the message
        body = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    try:
        level = Severity.parse(severity)
    except ValueError as exc:
        raise UsageError(f"--severity: {exc}") from None
    wait = wait_seconds(wait)
    if state not in ("trigger", "acknowledge", "resolve"):
        raise UsageError(f"--state {state!r}: choose trigger, acknowledge or resolve")
    fields = [Field(*parse_pair(f, "--field", "KEY=VALUE")) for f in field or ()]
    message = Message(
        title=title,
        body=body,
        event=event,
        severity=level,
        fields=fields,
        actions=[parse_action(a) for a in action or ()],
        dedup_key=dedup_key,
        state=cast("IncidentState", state),
        thread_id=thread_id,
    )
    # an ad hoc --url send reads a configuration only when one is named, and is sent from
    # here whatever executor that names: its target is secret and never stored
    notifier = load_notifier(
        config,
        db,
        required=url is None,
        implicit=url is None,
        executor="local" if url is not None else None,
    )
    # one message: httpx's own pool; aiohttp's (~0.1 s to import) pays off only for many
    notifier.http_pool = "httpx"
    with notifier:
        if url is not None:
            if to:
                raise UsageError("--url and --to cannot be combined")
            name = provider or notifier.providers.infer(url)
            spec = notifier.providers.spec(name)
            options = adhoc_options(option or (), spec)
            channel = adhoc_channel(url, name, adhoc_settings(setting or ()), options)
            route: list[str | Channel] = [channel]
        else:
            for given, flag in (
                (provider, "--provider"),
                (option, "--option"),
                (setting, "--setting"),
            ):
                if given:
                    raise UsageError(f"{flag} goes with --url")
            route = list(to or [])
        if dry_run:
            planned = notifier.plan(message, route or None, tenant)
            if not planned:
                raise UsageError(_nothing_routed(message))
            print_json([attrs.asdict(p) for p in planned])
            return 0
        if not route and not notifier.route(message, None, tenant):
            raise UsageError(_nothing_routed(message))
        if url is not None and (wait if wait is not None else notifier.wait) == 0:
            raise UsageError(
                "--url with --wait 0 would queue a delivery no worker can send (ad hoc "
                "targets are secret and not stored); configure a channel to queue"
            )
        if quiet or not sys.stderr.isatty():
            result = notifier.send(message, route or None, tenant=tenant, wait=wait)
        else:
            with StatusLine() as status:
                notifier.observe(status.observe)
                result = notifier.send(message, route or None, tenant=tenant, wait=wait)
        queued_only = (wait if wait is not None else notifier.wait) == 0 or (
            not notifier.executor.attempts_here  # handed to Celery workers: queued is success
        )
    _report(result, json_out, queued_ok=queued_only)
    if queued_only:
        return 0
    return 0 if result.ok else 1


def _nothing_routed(message: Message) -> str:
    return (
        f"no channel takes event {message.event or '(none)'!r} at severity "
        f"{message.severity.value}; name channels with --to or check their `events`"
    )


def _report(result: SendResult, as_json: bool, *, queued_ok: bool) -> None:
    import attrs

    if as_json:
        print_json(
            {
                "message_id": result.message_id,
                "ok": result.ok,
                "deliveries": [
                    {
                        **attrs.asdict(d),
                        "next_attempt": when(d.next_attempt) if d.next_attempt else None,
                    }
                    for d in result.deliveries
                ],
            }
        )
        return
    for d in result.deliveries:
        name = f"{d.tenant}/{d.channel}" if d.tenant else d.channel
        tries = f"{d.attempts} attempt{'s' if d.attempts != 1 else ''}"
        detail = (
            d.reason
            if d.status != "delivered"
            else (f"HTTP {d.http_status}" if d.http_status else "")
        )
        if d.status == "pending" and d.attempts:
            detail = f"will retry (queued for `notify worker`): {d.reason}"
        echo(f"{paint(d.status, 9)} {name}  {d.provider}  {tries}  {detail}  [{d.id}]".rstrip())
