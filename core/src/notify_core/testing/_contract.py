"""The provider contract: what every notify provider plugin must do, as tests.

A plugin's test suite subclasses :class:`ProviderContract` and declares the plugin,
its provider name and examples; pytest then runs every ``test_*`` method below
against it. Each check is also a plain function (``check_*``) raising
:class:`AssertionError` with a message that says what the plugin did wrong and what
to do instead, so the checks can be reused outside the class.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pluggy
import pytest

from .._channel import Channel, RetryPolicy
from .._errors import InvalidTarget, NotifyError, PayloadError
from .._http import Clients
from .._masking import MIN_SECRET, Masker, is_secret_key, mask_value, url_secrets
from .._models import Action, Field, Message
from .._notifier import Notifier
from .._outbox import payload_record
from .._plugins import Providers
from .._provider import Outcome, Payload, ProviderSpec, SendContext, Target
from .._text import MARKER
from ._cli import stored_bytes
from ._groups import group_summaries
from ._guard import no_sleep, pure
from ._local import LoopbackOnlyTransport, local_notifier, origins_of, providers_for
from ._server import Answer, RecordingServer

GUIDE = "docs/plugins.md"
#: The delivery id every contract build uses.
DELIVERY_ID = "dly_contract_0001"
#: The name of the channel the contract builds from an example.
CHANNEL_NAME = "contract"
#: The time of every reference message (builds must not read the clock).
TIMESTAMP = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
UNICODE_PROBE = "日本語"


@attrs.frozen
class Example:
    """A channel of the provider under test, as a user would configure it.

    ``url``, ``options`` (top-level keys the provider declares in ``channel_keys``) and
    ``settings`` make the channel. ``secrets`` are the substrings that must never be
    shown, stored or logged; ``public`` are values that must stay visible although
    they may look random (a topic name, a chat id): in the target people see and in the
    stored payload. ``inferable=False`` marks a valid URL that ``url_patterns`` cannot
    recognise, as any URL of a self-hosted service on its own host (``notify send
    --url`` then needs ``--provider``). For an invalid example, ``key`` is the channel
    key the :class:`~notify_core.plugin.InvalidTarget` must name and ``why`` says what
    is wrong.
    """

    url: str | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict)
    settings: Mapping[str, Any] = attrs.field(factory=dict)
    secrets: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    key: str = "url"
    why: str = ""
    inferable: bool = True
    public: tuple[str, ...] = attrs.field(default=(), converter=tuple)


def as_example(value: Example | str) -> Example:
    return value if isinstance(value, Example) else Example(url=value)


def reference_messages() -> dict[str, Message]:
    """The messages every provider must build: ordinary, rich, empty, unicode, huge, and
    the summaries of groups of 1, 12 and 200 items (see :func:`group_summary`)."""
    return {
        "small": Message(title="Backup done", body="42 GB in 3 min", timestamp=TIMESTAMP),
        "rich": Message(
            title="Training failed: resnet-50",
            body="loss is **NaN** at step 1200\n\n[logs](https://ml.example.com/runs/42/logs)",
            event="training.failed",
            severity="critical",
            fields={"Run": "r-42", "Loss": "NaN", "Duration": "3h 12m"},
            actions=[Action("View run", "https://ml.example.com/runs/42", "primary")],
            tags=("ml", "resnet"),
            data={"run": "r-42", "step": 1200},
            dedup_key="training.failed:r-42",
            timestamp=TIMESTAMP,
        ),
        "title only": Message(title="Backup done", event="backup.done", timestamp=TIMESTAMP),
        "empty": Message(title="", body="", timestamp=TIMESTAMP),
        "unicode": Message(
            title=f'Ünïcödé ✓ {UNICODE_PROBE} 🚀 «quoted» "q" back\\slash',
            body="RTL: שלום · combining: e\u0301 · emoji: 👩‍💻 · zero width:\u200b · bell:\x07",
            fields={"名前": "値 ✓", "emoji 🔥": "🔥" * 10},
            severity="warning",
            timestamp=TIMESTAMP,
        ),
        "resolve": Message(
            title="Disk full on db-1",
            severity="error",
            state="resolve",
            dedup_key="disk-full:db-1",
            timestamp=TIMESTAMP,
        ),
        "oversized": oversized_message(),
        # what a channel with `group = {...}` sends: long, with many items and buttons
        **group_summaries(),
    }


def oversized_message() -> Message:
    """Far beyond any provider's limits: every part must be trimmed, none refused."""
    line = "**Traceback** (most recent call last): `step()` failed — Ünïcödé 日本語 🚀 <&>\n"
    return Message(
        title="Huge " + "title " * 400,
        body=line * 3000,
        event="load.test",
        severity="error",
        fields=[Field(f"field {i} " + "n" * 200, "v" * 4000) for i in range(120)],
        actions=[Action("Open " + "x" * 200, f"https://example.com/{i}") for i in range(30)]
        + [Action("Long URL", "https://example.com/" + "u" * 10_000)],
        tags=tuple(f"tag-{i}" for i in range(200)),
        data={"blob": "d" * 50_000},
        timestamp=TIMESTAMP,
    )


# -- helpers ---------------------------------------------------------------------------


def shown(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` as a failure message may show it: declared and URL-looking secrets masked."""
    return Masker([*secrets, *url_secrets(text)]).text(text)


def _describe(answer: Answer) -> str:
    body = answer.body.decode(errors="replace") if isinstance(answer.body, bytes) else answer.body
    text = f"HTTP {answer.status} {body[:60]!r}"
    retry_after = {k.lower(): v for k, v in answer.headers.items()}.get("retry-after")
    text += f" with Retry-After: {retry_after}" if retry_after else " without Retry-After"
    return text


def _first_difference(a: Any, b: Any, path: str = "body") -> str:
    if type(a) is not type(b):
        return f"{path} ({type(a).__name__} vs {type(b).__name__})"
    if isinstance(a, Mapping):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{path}.{key} (present only once)"
            if a[key] != b[key]:
                return _first_difference(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list | tuple):
        if len(a) != len(b):
            return f"{path} (length {len(a)} vs {len(b)})"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path} ({shorten(repr(a))} vs {shorten(repr(b))})"


def shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _secret_paths(value: Any, secrets: Sequence[str], path: str = "body") -> Iterator[str]:
    """Where in a body a secret appears outside a credential-named key."""
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                yield f"{path} holds {mask_value(secret)}"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, str) and is_secret_key(str(key)):
                continue  # the API wants the credential here (PagerDuty's routing_key)
            yield from _secret_paths(item, secrets, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _secret_paths(item, secrets, f"{path}[{i}]")


def _stored_where(db: Path, secret: str) -> list[str]:
    found: list[str] = []
    con = sqlite3.connect(db)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                hit = con.execute(
                    f'SELECT 1 FROM "{table}" WHERE instr(CAST("{column}" AS TEXT), ?) LIMIT 1',
                    (secret,),
                ).fetchone()
                if hit:
                    found.append(f"{table}.{column}")
    finally:
        con.close()
    return found


def _serialisable(payload: Payload, where: str) -> None:
    if isinstance(payload.body, bytes | str):
        return
    try:
        json.dumps(payload.body, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise AssertionError(
            f"{where}: the payload body is not JSON-serialisable ({type(exc).__name__}: {exc}); "
            "use dicts, lists, strings, finite numbers, booleans and None (or bytes/str bodies)"
        ) from None


def _text_size(message: Message) -> int:
    parts = [message.title, message.body, *message.tags]
    parts += [t for f in message.fields for t in (f.name, f.value)]
    parts += [t for a in message.actions for t in (a.label, a.url)]
    return sum(len(p) for p in parts)


# -- the checks ------------------------------------------------------------------------


def check_registration(plugin: object, provider: str, name: str | None = None) -> ProviderSpec:
    """The plugin registers cleanly, implements only known hooks and declares ``provider``."""
    __tracebackhide__ = True
    providers = Providers()
    try:
        providers.register(plugin, name=name or provider)
    except pluggy.PluginValidationError as exc:
        raise AssertionError(
            f"{provider}: the plugin does not fit the hook API: {exc} "
            f"(hook signatures are in notify_core.hookspecs; see {GUIDE})"
        ) from None
    try:
        providers.pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise AssertionError(
            f"{provider}: {exc}: a @hookimpl whose name is not a notify hook is never "
            "called (a typo?)"
        ) from None
    try:
        installed = providers.installed
    except Exception as exc:
        raise AssertionError(
            f"{provider}: register_providers() raised {type(exc).__name__}: {exc}"
        ) from None
    if provider not in installed:
        declared = ", ".join(installed) or "nothing"
        raise AssertionError(
            f"register_providers() did not declare a ProviderSpec named {provider!r} "
            f"(it declared: {declared})"
        )
    spec = installed[provider].spec
    if not isinstance(spec, ProviderSpec):
        raise AssertionError(f"{provider}: register_providers() must return ProviderSpec objects")
    if provider != provider.lower() or not provider.replace("-", "").replace("_", "").isalnum():
        raise AssertionError(
            f"provider name {provider!r} must be lowercase letters, digits, '-' or '_' "
            f"(it appears in configuration and in NOTIFY_<PROVIDER>_ENABLED)"
        )
    stray = [k for k in spec.secret_keys if k not in spec.channel_keys]
    if stray:
        raise AssertionError(
            f"{provider}: secret_keys lists {stray[0]!r}, which is not in channel_keys; "
            "a channel cannot set it, so it is never masked"
        )
    return spec


def check_valid(providers: Providers, channel: Channel, example: Example) -> Target:
    """A documented example validates, without I/O, and every secret of it is masked."""
    __tracebackhide__ = True
    where = shown(channel.url or str(dict(channel.options)), example.secrets)
    with contextlib.suppress(NotifyError):
        providers.validate(channel)  # warm up: first-time imports open files
    with pure() as impure:
        try:
            target = providers.validate(channel)
        except InvalidTarget as exc:
            raise AssertionError(
                f"validate_url rejected the documented example {where}: {exc}"
            ) from None
    if impure:
        raise AssertionError(
            f"validate_url is not free of I/O for {where}: {'; '.join(impure)} "
            "(it runs when configuration loads; do not resolve hosts or read files)"
        )
    if not isinstance(target, Target):
        raise AssertionError(f"validate_url must return a Target, not {type(target).__name__}")
    spec = providers.spec(channel.provider)
    inferable = example.inferable and channel.url and spec.url_patterns
    if inferable and not spec.recognizes(channel.url or ""):
        raise AssertionError(
            f"url_patterns of {channel.provider!r} do not match the documented example "
            f"{where}: `notify send --url` could not infer the provider. If no pattern "
            "can (a self-hosted service on its own host), mark the example "
            "Example(..., inferable=False)"
        )
    masker = providers.masker(channel, target)
    for secret in example.secrets:
        if len(secret) >= MIN_SECRET and masker.text(secret) == secret:
            raise AssertionError(
                f"the secret {mask_value(secret)} of {where} is not masked: return it in "
                "Target.secrets from validate_url (or declare its channel key in "
                "ProviderSpec.secret_keys)"
            )
    display = providers.display(channel, target)
    for secret in (*example.secrets, *target.secrets):
        if len(secret) >= MIN_SECRET and secret in display:
            raise AssertionError(
                f"the target shown to users ({shown(display, [secret])}) contains a secret: "
                "set Target.display with the secret masked (mask_value)"
            )
    check_public(providers, channel, target, (*example.public, *target.public), where)
    return target


def check_public(
    providers: Providers, channel: Channel, target: Target, public: Sequence[str], where: str
) -> None:
    """Values that are not secret stay visible: in the display and in the stored payload.

    The core's URL heuristics would take a random-looking topic name for a token; the
    plugin says otherwise in ``Target.public``. Masked in the stored payload but shown
    in the display, the value would be both hidden and not, and ``notify log`` would
    not say where a delivery went.
    """
    __tracebackhide__ = True
    values = [v for v in dict.fromkeys(public) if len(v) >= MIN_SECRET]
    if not values:
        return
    masker = providers.masker(channel, target)
    display = providers.display(channel, target, masker)
    payload = providers.build(channel, reference_messages()["small"], DELIVERY_ID, target)
    record = payload_record(payload, masker)
    raw = f"{payload.url or ''} {payload.content().decode('utf-8', errors='replace')}"
    for value in values:
        masked = masker.text(value) != value
        if value in target.secrets or (masked and value in target.public):
            raise AssertionError(
                f"the public value {value!r} of {where} is masked as a secret: it is in "
                "Target.secrets, a secret_keys option or a credential-named setting; a "
                "value is either secret or public"
            )
        if masked:
            raise AssertionError(
                f"the core masks the public value {value!r} of {where} in the stored payload "
                "and the log (its URL heuristics take it for a token): list it in "
                "Target.public"
            )
        if value not in display:
            raise AssertionError(
                f"the public value {value!r} of {where} is missing from the target shown to "
                f"users ({display}): show it in Target.display (or leave display empty and "
                "list it in Target.public, so the core's masked URL keeps it)"
            )
        if value in raw and value not in record:
            raise AssertionError(
                f"the stored payload of {where} masks the public value {value!r}: it sits "
                "under a credential-named key of the body (token, key, secret…), which the "
                "core masks whole; rename the key"
            )


def check_invalid(providers: Providers, channel: Channel, example: Example) -> InvalidTarget:
    """A bad destination is refused with InvalidTarget: one line, the right key, no secret."""
    __tracebackhide__ = True
    secrets = list(example.secrets)
    if channel.url and not example.secrets:
        secrets += [s for s in url_secrets(channel.url) if len(s) >= 8]
    spec = providers.spec(channel.provider)
    secrets += [
        v for k, v in channel.options.items() if k in spec.secret_keys and isinstance(v, str)
    ]
    where = shown(channel.url or str(dict(channel.options)), secrets)
    why = f" ({example.why})" if example.why else ""
    try:
        target = providers.validate(channel)
    except InvalidTarget as exc:
        error = exc
    except Exception as exc:
        raise AssertionError(
            f"validate_url raised {type(exc).__name__} for {where}{why}; raise "
            "InvalidTarget(message, key=...) so the user sees one line naming the key"
        ) from None
    else:
        raise AssertionError(
            f"validate_url accepted {where}{why}, which should be refused "
            f"(it returned a target for {shown(target.url, secrets)})"
        )
    message = str(error)
    if not message.strip():
        raise AssertionError(f"InvalidTarget for {where}{why} has an empty message")
    if "\n" in message.strip() or "\r" in message:
        raise AssertionError(
            f"InvalidTarget for {where}{why} spans several lines; errors are one line "
            f"on stderr: {message!r}"
        )
    for secret in secrets:
        if len(secret) >= MIN_SECRET and (secret in message or secret in repr(error)):
            raise AssertionError(
                f"InvalidTarget for {where} shows the secret {mask_value(secret)}: "
                f"{shown(message, [secret])!r}; mask it (mask_value) or leave it out"
            )
    if error.key != example.key:
        raise AssertionError(
            f"InvalidTarget for {where}{why} names key {error.key!r}, but the fault is in "
            f"{example.key!r}: raise InvalidTarget(message, key={example.key!r}) so the "
            "error points at the configuration line to fix"
        )
    return error


def build_guarded(
    providers: Providers, channel: Channel, message: Message, label: str
) -> tuple[Payload, list[str]]:
    """Build a payload with I/O refused and clock/random calls recorded."""
    __tracebackhide__ = True
    with contextlib.suppress(NotifyError):
        providers.build(channel, message, DELIVERY_ID)  # warm up: first-time imports
    with pure() as impure:
        try:
            payload = providers.build(channel, message, DELIVERY_ID)
        except PayloadError as exc:
            if impure:
                raise AssertionError(
                    f"build_payload is not pure (message {label!r}): {'; '.join(impure)}"
                ) from None
            raise AssertionError(
                f"build_payload refused the {label!r} message: {exc}; trim to the "
                "provider's limits with the core's helpers (truncate, fit_json) instead"
            ) from None
    if not isinstance(payload, Payload):
        raise AssertionError(
            f"build_payload returned {type(payload).__name__}, not notify_core.Payload"
        )
    return payload, list(impure)


def check_pure(providers: Providers, channel: Channel, messages: Mapping[str, Message]) -> None:
    """Same input, same payload: no I/O, no clock, no randomness, no hidden state."""
    __tracebackhide__ = True
    first: dict[str, Payload] = {}
    for label, message in messages.items():
        payload, impure = build_guarded(providers, channel, message, label)
        if impure:
            raise AssertionError(
                f"build_payload is not pure (message {label!r}): {'; '.join(impure[:3])}. "
                "It backs --dry-run and golden tests: take the time from message.timestamp, "
                "ids from delivery_id, and do no I/O"
            )
        _serialisable(payload, f"message {label!r}")
        first[label] = payload
    for label, message in messages.items():  # again, after building the others
        again, _ = build_guarded(providers, channel, message, label)
        if again != first[label]:
            diff = _first_difference(first[label].body, again.body)
            if first[label].body == again.body:
                diff = "method, url or headers"
            raise AssertionError(
                f"build_payload gave two different payloads for the same {label!r} message "
                f"(first difference: {diff}); it must be deterministic: no clock, no random "
                "ids, no counters or caches that change the result"
            )


def check_hard_message(
    providers: Providers, channel: Channel, message: Message, label: str, marks_cuts: bool
) -> Payload:
    """Empty, unicode and oversized messages build, within ``max_payload_bytes``."""
    __tracebackhide__ = True
    payload, _ = build_guarded(providers, channel, message, label)
    _serialisable(payload, f"message {label!r}")
    content = payload.content()
    spec = providers.spec(channel.provider)
    if spec.max_payload_bytes is not None and len(content) > spec.max_payload_bytes:
        raise AssertionError(  # providers.build already refuses this; kept for direct use
            f"the {label!r} payload is {len(content)} bytes, over max_payload_bytes "
            f"{spec.max_payload_bytes}"
        )
    text = content.decode("utf-8", errors="replace")
    if label == "unicode" and UNICODE_PROBE not in text and "\\u65e5\\u672c" not in text:
        raise AssertionError(
            f"the unicode message lost its text: {UNICODE_PROBE!r} is not in the payload "
            "(encode as UTF-8; do not strip non-ASCII characters)"
        )
    cut = len(text) < _text_size(message)  # the payload holds less text than the message
    if label == "oversized" and marks_cuts and cut and MARKER not in text and "\\u2026" not in text:
        raise AssertionError(
            f"the oversized message was trimmed without the core's marker {MARKER!r}: cut "
            "text with truncate/truncate_bytes/fit_json so readers see something is missing"
        )
    return payload


async def _exchange(
    providers: Providers, channel: Channel, payload: Payload, target: Target, clients: Clients
) -> tuple[Outcome | BaseException, list[str]]:
    context = SendContext(delivery_id=DELIVERY_ID, attempt=1, timeout=5.0, target=target)
    with no_sleep() as slept:
        try:
            outcome: Outcome | BaseException = await providers.send(
                channel, payload, context, clients.get(channel.verify_tls)
            )
        except Exception as exc:
            outcome = exc
    await clients.aclose()
    return outcome, list(slept)


def check_answer(
    providers: Providers,
    channel: Channel,
    server: RecordingServer,
    answer: Answer,
    expect: str,
    retry_after: float | None = None,
    throttled: bool | None = None,
) -> Outcome:
    """One attempt against ``answer`` reads as ``expect`` (delivered, retry or failed).

    ``throttled`` (when given) is whether the outcome must say "slow down": a 429 costs
    no retry budget, a 5xx does.
    """
    __tracebackhide__ = True
    target = providers.validate(channel)
    payload = providers.build(channel, reference_messages()["small"], DELIVERY_ID, target)
    routes = dict.fromkeys(origins_of(providers, [channel]), server.url)
    clients = Clients(transport=LoopbackOnlyTransport(), reroute=routes)
    before = len(server.requests)
    server.script(answer)
    try:
        outcome, slept = asyncio.run(_exchange(providers, channel, payload, target, clients))
    finally:
        server.clear_script()  # nothing left over for the next check
    what = _describe(answer)
    made = len(server.requests) - before
    if isinstance(outcome, BaseException):
        raise AssertionError(
            f"send raised {type(outcome).__name__} for {what}: {shown(str(outcome))}; "
            "return an Outcome (the core turns transport errors from its client into retries)"
        )
    if not isinstance(outcome, Outcome):
        raise AssertionError(f"send/classify_response returned {type(outcome).__name__}")
    if slept:
        raise AssertionError(
            f"send slept ({', '.join(slept)}) for {what}: never sleep; return "
            "Outcome.retry(..., retry_after=seconds) and the core waits"
        )
    if made != 1:
        raise AssertionError(
            f"send made {made} requests for one attempt ({what}): "
            + (
                "never retry inside send; return Outcome.retry and the core schedules "
                "the next attempt, paced and recorded"
                if made > 1
                else "the request never reached the channel's URL (is Payload.url wrong?)"
            )
        )
    if outcome.status != expect:
        advice = {
            "delivered": "a 2xx answer from the service means it accepted the message",
            "retry": (
                "this answer is transient: return Outcome.retry(reason, retry_after=...) so "
                "the core tries again later (a 429 means 'slow down', not 'give up')"
            ),
            "failed": (
                "a 4xx answer will not change on retry: return Outcome.failed(reason) "
                "(set disables=True when it means the destination is gone)"
            ),
        }[expect]
        raise AssertionError(
            f"{channel.provider} classified {what} as {outcome.status!r} "
            f"(reason {shown(outcome.reason)!r}); expected {expect!r}: {advice}"
        )
    if retry_after is not None and (
        outcome.retry_after is None or not math.isclose(outcome.retry_after, retry_after)
    ):
        raise AssertionError(
            f"{channel.provider} read {what} as retry_after={outcome.retry_after!r}, expected "
            f"{retry_after!r}: pass the provider's own delay on in Outcome.retry_after "
            "(generic_outcome reads Retry-After for you)"
        )
    if outcome.retry_after is not None and not outcome.retry_after >= 0:
        raise AssertionError(
            f"{channel.provider} read {what} as retry_after={outcome.retry_after!r}: it must "
            "be a number of seconds ≥ 0"
        )
    if throttled is not None and outcome.throttled != throttled:
        raise AssertionError(
            f"{channel.provider} classified {what} with throttled={outcome.throttled!r}, "
            f"expected {throttled!r}: "
            + (
                "a rate limit means 'slow down': keep generic_outcome's flag (attrs.evolve "
                "keeps it) or pass Outcome.retry(..., throttled=True), so it costs no retry"
                if throttled
                else "only a rate limit is throttling; a server error must spend the budget"
            )
        )
    return outcome


def check_no_secret_leaks(
    plugin: object,
    channel: Channel,
    example: Example,
    server: RecordingServer,
    db: Path,
    *,
    name: str | None = None,
    success: Answer,
    message: Message | None = None,
) -> None:
    """No secret in the body people read, in the store, in results or in --dry-run output."""
    __tracebackhide__ = True
    channel = attrs.evolve(channel, retry=RetryPolicy(attempts=1))
    message = message or reference_messages()["rich"]
    providers = providers_for(plugin, name=name or channel.provider)
    target = providers.validate(channel)
    secrets = sorted(
        {s for s in (*example.secrets, *target.secrets) if len(s) >= MIN_SECRET},
        key=len,
        reverse=True,
    )
    if not secrets:
        return
    payload = providers.build(channel, message, DELIVERY_ID, target)
    body: Any = payload.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    leaks = list(_secret_paths(body, secrets))
    if leaks:
        raise AssertionError(
            f"the payload body carries a secret: {leaks[0]}. Never put a credential in text "
            "people read; it belongs in the URL or a header (a body key named like "
            "routing_key or token is allowed when the API wants it there)"
        )
    notifier: Notifier = local_notifier(
        plugin, [channel], server_url=server.url, db=db, name=name or channel.provider
    )
    texts: list[tuple[str, str]] = []
    try:
        server.script(success)
        result = notifier.send(message, to=[channel.name], wait=10.0)
        texts.append(("the send result", repr(result)))
        [delivery] = result.deliveries
        if delivery.status != "delivered":
            raise AssertionError(
                f"a send of the 'rich' message to the recorder answering {_describe(success)} "
                f"was not delivered ({delivery.status}: {shown(delivery.reason, secrets)})"
            )
        # a provider that echoes the request (URL, token) in its error text
        server.script(Answer(status=400, body="bad request for " + " ".join(secrets)))
        failed = notifier.send(message, to=[channel.name], wait=10.0)
        texts.append(("the failed send result", repr(failed)))
        planned = notifier.plan(message, to=[channel.name])
        texts.append(("--dry-run output (Notifier.plan)", repr(planned)))
    finally:
        notifier.close()
    for label, text in texts:
        for secret in secrets:
            if secret in text:
                raise AssertionError(
                    f"{label} shows the secret {mask_value(secret)}: "
                    f"{shorten(shown(text, secrets), 300)}"
                )
    data = stored_bytes(db)
    for secret in secrets:
        if secret.encode() in data:
            where = ", ".join(_stored_where(db, secret)) or "the database file"
            raise AssertionError(
                f"the store holds the secret {mask_value(secret)} in {where}: list it in "
                "Target.secrets from validate_url (or its key in ProviderSpec.secret_keys) "
                "so the core masks it"
            )


# -- the suite -------------------------------------------------------------------------

ANSWER_KINDS = (
    "success",
    "client error",
    "rate limited with Retry-After",
    "rate limited without Retry-After",
    "server error",
)


class ProviderContract:
    """Subclass in a test module named ``Test…`` to run the contract on your plugin::

        pytest_plugins = ["notify_core.testing"]

        class TestDiscordContract(ProviderContract):
            plugin = notify_discord
            provider = "discord"
            valid = (Example("https://discord.com/api/webhooks/1/tok…", secrets=("tok…",)),)
            invalid = (Example("http://discord.com/api/webhooks/1/x", why="not https"),)

    Override :meth:`make_channel` when a channel needs more than an example gives,
    :meth:`messages` to add messages, :meth:`assert_within_limits` to check the
    service's own limits on built payloads, and the answer attributes when the service
    answers differently from plain HTTP (Discord's 204, Slack's ``ok``).
    """

    #: The plugin object: usually the module with the ``@hookimpl`` functions.
    plugin: ClassVar[object]
    #: The provider name the plugin declares in ``register_providers``.
    provider: ClassVar[str]
    #: Destinations the provider documents; each must validate (the first one is used
    #: to build and send). A string is a URL with no declared secret.
    valid: ClassVar[Sequence[Example | str]] = ()
    #: Destinations that must be refused with InvalidTarget (``key`` and ``why`` set).
    invalid: ClassVar[Sequence[Example | str]] = ()
    #: The service's success answers (all must read as delivered).
    success_answers: ClassVar[Sequence[Answer]] = (Answer(200, "ok"),)
    #: Permanent failures (must read as failed).
    client_error_answers: ClassVar[Sequence[Answer]] = (
        Answer(400, "invalid request"),
        Answer(404, "no such hook"),
    )
    #: A rate limit with a delay, and the ``retry_after`` it must give.
    rate_limited: ClassVar[Answer] = Answer(429, "rate limited", headers={"Retry-After": "7"})
    rate_limited_retry_after: ClassVar[float | None] = 7.0
    #: A rate limit without a delay (must still read as retry).
    rate_limited_bare: ClassVar[Answer] = Answer(429, "rate limited")
    #: Transient server failures (must read as retry).
    server_error_answers: ClassVar[Sequence[Answer]] = (
        Answer(500, "internal error"),
        Answer(502, "bad gateway"),
        Answer(503, "unavailable"),
    )
    #: Whether the oversized message, once trimmed, must show the core's marker (``…``)
    #: somewhere in the payload. Turn it off only for a service whose payloads carry no
    #: text a reader sees (a metrics sink): whatever people read must show a cut.
    marks_cuts: ClassVar[bool] = True

    # -- what a subclass may override ----------------------------------------------------

    def make_channel(self, example: Example) -> Channel:
        """The channel for ``example`` (override to add settings every channel needs)."""
        return Channel(
            name=CHANNEL_NAME,
            provider=self.provider,
            url=example.url,
            options=dict(example.options),
            settings=dict(example.settings),
        )

    def messages(self) -> dict[str, Message]:
        """The messages the purity and limit checks build (add your own)."""
        return reference_messages()

    def assert_within_limits(self, payload: Payload, message: Message, label: str) -> None:
        """Check the service's own limits on a built payload (override; assert)."""

    # -- plumbing ------------------------------------------------------------------------

    def _declared(self) -> tuple[Providers, list[Example], list[Example]]:
        __tracebackhide__ = True
        missing = [a for a in ("plugin", "provider") if not hasattr(self, a)]
        if missing:
            raise AssertionError(
                f"{type(self).__name__} must set {' and '.join(missing)} "
                "(the plugin object and the provider name it registers)"
            )
        valid = [as_example(v) for v in self.valid]
        invalid = [as_example(v) for v in self.invalid]
        if not valid:
            raise AssertionError(
                f"{type(self).__name__}.valid is empty: list the destinations your "
                "provider documents (with their secrets)"
            )
        return providers_for(self.plugin, name=self.provider), valid, invalid

    def _channel(self) -> tuple[Providers, Channel]:
        __tracebackhide__ = True
        providers, valid, _ = self._declared()
        return providers, self.make_channel(valid[0])

    # -- the tests -----------------------------------------------------------------------

    def test_registers_its_provider(self) -> None:
        self._declared()
        check_registration(self.plugin, self.provider)

    def test_accepts_the_documented_examples(self) -> None:
        providers, valid, _ = self._declared()
        for example in valid:
            check_valid(providers, self.make_channel(example), example)

    def test_rejects_invalid_destinations_with_one_line(self) -> None:
        providers, _, invalid = self._declared()
        if not invalid:
            raise AssertionError(
                f"{type(self).__name__}.invalid is empty: list destinations your "
                "validate_url must refuse (wrong host, http://, a missing token…)"
            )
        for example in invalid:
            check_invalid(providers, self.make_channel(example), example)

    def test_build_payload_is_pure_and_deterministic(self) -> None:
        providers, channel = self._channel()
        check_pure(providers, channel, self.messages())

    @pytest.mark.parametrize("label", ["empty", "title only", "unicode", "oversized"])
    def test_build_payload_handles_hard_messages(self, label: str) -> None:
        providers, channel = self._channel()
        message = self.messages()[label]
        payload = check_hard_message(providers, channel, message, label, self.marks_cuts)
        self.assert_within_limits(payload, message, label)

    def test_build_payload_keeps_every_message_within_limits(self) -> None:
        providers, channel = self._channel()
        for label, message in self.messages().items():
            payload = providers.build(channel, message, DELIVERY_ID)
            self.assert_within_limits(payload, message, label)

    @pytest.mark.parametrize("kind", ANSWER_KINDS)
    def test_classifies_answers(self, kind: str, recorder: RecordingServer) -> None:
        providers, channel = self._channel()
        cases: list[tuple[Answer, str, float | None, bool | None]]
        if kind == "success":
            cases = [(a, "delivered", None, None) for a in self.success_answers]
        elif kind == "client error":
            cases = [(a, "failed", None, None) for a in self.client_error_answers]
        elif kind == "rate limited with Retry-After":
            cases = [(self.rate_limited, "retry", self.rate_limited_retry_after, True)]
        elif kind == "rate limited without Retry-After":
            cases = [(self.rate_limited_bare, "retry", None, True)]
        else:
            cases = [(a, "retry", None, False) for a in self.server_error_answers]
        for answer, expect, retry_after, throttled in cases:
            check_answer(providers, channel, recorder, answer, expect, retry_after, throttled)

    def test_never_leaks_a_secret(self, recorder: RecordingServer, tmp_path: Path) -> None:
        _, valid, _ = self._declared()
        for i, example in enumerate(valid):
            check_no_secret_leaks(
                self.plugin,
                self.make_channel(example),
                example,
                recorder,
                tmp_path / f"contract-{i}.db",
                name=self.provider,
                success=self.success_answers[0],
            )
