"""Configuration: TOML in, validated channels and templates out.

Every error names the file and the key path (``notify.toml: channels.ops.rate.per_second:
expected a number, got 'fast'``) because the person reading it is editing that file.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ._channel import Channel, Rate, RetryPolicy
from ._config_grouping import read_digest, read_group
from ._config_values import Values
from ._errors import ConfigError, NotifyError
from ._template import EventTemplate

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_ENV = "NOTIFY_CONFIG"
DB_ENV = "NOTIFY_DB"
DEFAULT_CONFIG = "notify.toml"
DEFAULT_DB = "notify.db"
#: What every command and ``Notifier.from_config`` say when no configuration is found.
NO_CONFIG = "no configuration: pass --config, set NOTIFY_CONFIG, or create ./notify.toml"

CORE_CHANNEL_KEYS = frozenset(
    {
        "provider", "url", "events", "min_severity", "rate", "retry", "timeout",
        "settings", "enabled", "cooldown", "verify_tls", "description", "group", "digest",
    }
)  # fmt: skip
_NOTIFY_KEYS = frozenset(
    {
        "db",
        "concurrency",
        "wait",
        "auto_disable_after",
        "lease",
        "limiter",
        "executor",
        "tenants_dir",
    }
)
#: ``[notify].limiter``: where rate-limit state lives (a ``redis://`` URL is the third).
LIMITERS = ("store", "local")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
LIMITER_ENV = "NOTIFY_LIMITER"
_TOP_KEYS = frozenset({"notify", "channels", "events", "tenants", "serve"})
#: ``[notify] executor``: the default attempts deliveries in the sending process and in
#: ``notify worker``; any other name is an installed executor (``notify_core.executors``).
DEFAULT_EXECUTOR = "local"
_EXECUTOR_NAME = re.compile(r"[a-z][a-z0-9_-]*\Z")
#: The keys of a per-tenant file (``<tenants_dir>/<tenant>/notify.toml``).
_TENANT_FILE_KEYS = frozenset({"tenant", "channels"})
_TENANT_KEYS = frozenset({"enabled", "description"})
_SERVE_KEYS = frozenset({"tokens", "host", "port"})
_TEMPLATE_KEYS = frozenset(
    {"title", "body", "severity", "fields", "actions", "dedup_key", "thread_id", "tags"}
)
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


@attrs.frozen(kw_only=True)
class ServeConfig:
    """``[serve]``: what ``notify serve`` (the notify-serve distribution) reads.

    ``tokens`` are bearer tokens; they never appear in a repr (nor anywhere else).
    """

    tokens: tuple[str, ...] = attrs.field(default=(), repr=False)
    host: str | None = None
    port: int | None = None


#: Bearer tokens shorter than this are refused: they could be guessed.
MIN_TOKEN_LENGTH = 16


@attrs.frozen(kw_only=True)
class Config:
    """A loaded configuration. Channels of a tenant live in ``tenants``."""

    source: str = "<memory>"
    db: str | None = None
    channels: tuple[Channel, ...] = ()
    tenants: Mapping[str, tuple[Channel, ...]] = attrs.field(factory=dict)
    templates: Mapping[str, EventTemplate] = attrs.field(factory=dict)
    concurrency: int = 32
    wait: float = 30.0
    auto_disable_after: int = 10
    lease: float = 60.0
    #: Who attempts accepted deliveries (``[notify] executor``).
    executor: str = DEFAULT_EXECUTOR
    #: The executor's own table (``[celery]`` for ``executor = "celery"``), ``${ENV}``
    #: already interpolated; the executor validates it.
    executor_settings: Mapping[str, Any] = attrs.field(factory=dict)
    serve: ServeConfig = attrs.field(factory=ServeConfig)
    #: ``"store"`` (shared by every process using the store), ``"local"`` (this
    #: process only) or a Redis URL (shared through Redis)
    limiter: str = "store"
    #: ``[notify].tenants_dir`` as written: per-tenant files (see :mod:`._tenants`)
    tenants_dir: str | None = None

    def all_channels(self) -> list[Channel]:
        out = list(self.channels)
        for channels in self.tenants.values():
            out.extend(channels)
        return out


def parse_limiter(value: str, where: str) -> str:
    """A ``limiter`` setting: ``"store"``, ``"local"`` or a Redis URL; else a ConfigError."""
    if value in LIMITERS or value.startswith(REDIS_SCHEMES):
        return value
    from ._limits_redis import masked_url  # the value may be a URL with a password

    raise ConfigError(
        f'expected "store", "local" or a redis:// URL, got {masked_url(value)!r}', path=where
    )


def find_config(
    explicit: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    implicit: bool = True,
) -> Path | None:
    """``--config``, then ``$NOTIFY_CONFIG``, then ``./notify.toml``; None if none applies.

    ``implicit=False`` skips ``./notify.toml``: an ad hoc ``--url`` send must not read
    whatever configuration happens to lie in the current folder.
    """
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    default = Path(DEFAULT_CONFIG)
    return default if implicit and default.exists() else None


def load_config(
    path: str | os.PathLike[str],
    providers: Any,
    env: Mapping[str, str] | None = None,
    problems: list[ConfigError] | None = None,
) -> Config:
    """Read and validate a TOML file; raises ConfigError naming the file and key."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("configuration file not found", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read configuration: {exc}", source=source) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", source=source) from None
    return parse_config(data, providers, source=source, env=env, problems=problems)


def parse_config(
    data: Mapping[str, Any],
    providers: Any,
    *,
    source: str = "<memory>",
    env: Mapping[str, str] | None = None,
    problems: list[ConfigError] | None = None,
) -> Config:
    """Validate already-parsed TOML data (``providers`` is a :class:`Providers`).

    A broken channel does not stop the load: it is kept with its ``problem`` (see
    :meth:`_Reader.channel_or_broken`). With a ``problems`` list, every broken channel
    or template is also recorded there, so ``notify check`` can list every problem.
    """
    reader = _Reader(source, os.environ if env is None else env, providers, problems)
    return reader.config(data)


class _Reader(Values):
    """The structure of a configuration: tables, channels, templates, tenants."""

    # -- structure -----------------------------------------------------------------

    def config(self, data: Mapping[str, Any]) -> Config:
        core = self.table(data.get("notify", {}), "notify")
        self.unknown(core, _NOTIFY_KEYS, "notify")
        kwargs: dict[str, Any] = {}
        executor = self.executor(core)
        self.top_level(data, executor)
        if executor != DEFAULT_EXECUTOR:
            kwargs["executor"] = executor
            if executor in data:
                kwargs["executor_settings"] = self.deep(
                    self.table(data[executor], executor), executor
                )
        if "db" in core:
            kwargs["db"] = self.string(core["db"], "notify.db")
        if "concurrency" in core:
            kwargs["concurrency"] = self.integer(
                core["concurrency"], "notify.concurrency", minimum=1
            )
        if "wait" in core:
            kwargs["wait"] = self.duration(core["wait"], "notify.wait")
        if "auto_disable_after" in core:
            kwargs["auto_disable_after"] = self.integer(
                core["auto_disable_after"], "notify.auto_disable_after", minimum=1
            )
        if "lease" in core:
            kwargs["lease"] = self.duration(core["lease"], "notify.lease")
            if kwargs["lease"] < 1:
                raise self.error("notify.lease", "must be at least 1s")
        if "limiter" in core:
            kwargs["limiter"] = self.limiter(core["limiter"], "notify.limiter")
        if "tenants_dir" in core:
            kwargs["tenants_dir"] = self.string(core["tenants_dir"], "notify.tenants_dir")
        channels = self.channels(data.get("channels", {}), "channels", tenant=None)
        tenants: dict[str, tuple[Channel, ...]] = {}
        for name, tenant in self.table(data.get("tenants", {}), "tenants").items():
            tpath = f"tenants.{name}"
            tenant = self.table(tenant, tpath)
            self.unknown(tenant, {"channels"}, tpath)
            tenants[name] = self.channels(
                tenant.get("channels", {}), f"{tpath}.channels", tenant=name
            )
        templates = {
            event: template
            for event, spec in self.table(data.get("events", {}), "events").items()
            if (template := self.collecting(self.template, event, spec)) is not None
        }
        if "serve" in data:
            kwargs["serve"] = self.serve(data["serve"])
        return Config(
            source=self.source, channels=channels, tenants=tenants, templates=templates, **kwargs
        )

    def tenant_file(self, data: Mapping[str, Any], tenant: str) -> tuple[bool, tuple[Channel, ...]]:
        """A per-tenant file: whether it is enabled (``[tenant] enabled``), and its channels."""
        self.unknown(data, _TENANT_FILE_KEYS, "")
        head = self.table(data.get("tenant", {}), "tenant")
        self.unknown(head, _TENANT_KEYS, "tenant")
        enabled = self.boolean(head.get("enabled", True), "tenant.enabled")
        if "description" in head:
            self.string(head["description"], "tenant.description")
        return enabled, self.channels(data.get("channels", {}), "channels", tenant=tenant)

    def executor(self, core: Mapping[str, Any]) -> str:
        if "executor" not in core:
            return DEFAULT_EXECUTOR
        name = self.string(core["executor"], "notify.executor")
        if not _EXECUTOR_NAME.match(name):
            raise self.error(
                "notify.executor", f'expected an executor name such as "celery", got {name!r}'
            )
        return name

    def top_level(self, data: Mapping[str, Any], executor: str) -> None:
        """Refuse unknown tables; the executor's own (``[celery]``) goes with its name."""
        allowed = _TOP_KEYS | ({executor} if executor != DEFAULT_EXECUTOR else set())
        import difflib

        for key, value in data.items():
            if key in allowed or not isinstance(value, Mapping):
                continue
            if not difflib.get_close_matches(key, sorted(allowed), n=1):  # not a typo
                raise self.error(
                    key,
                    f'unknown table; a [{key}] table goes with [notify] executor = "{key}" '
                    f"(known: {', '.join(sorted(allowed))})",
                )
        self.unknown(data, allowed, "")

    def serve(self, value: Any) -> ServeConfig:
        table = self.table(value, "serve")
        self.unknown(table, _SERVE_KEYS, "serve")
        tokens = self.strings(table.get("tokens", []), "serve.tokens")
        for i, token in enumerate(tokens):
            if len(token.strip()) < MIN_TOKEN_LENGTH or token != token.strip():
                raise self.error(
                    f"serve.tokens[{i}]",
                    f"a token must be at least {MIN_TOKEN_LENGTH} characters without spaces"
                    " around it (make one with: openssl rand -hex 32)",
                )
        host = self.string(table["host"], "serve.host") if "host" in table else None
        port = None
        if "port" in table:
            port = self.integer(table["port"], "serve.port", minimum=0)
            if port > 65535:
                raise self.error("serve.port", f"must be at most 65535, got {port}")
        return ServeConfig(tokens=tokens, host=host, port=port)

    def channels(self, value: Any, path: str, *, tenant: str | None) -> tuple[Channel, ...]:
        table = self.table(value, path)
        return tuple(
            self.channel_or_broken(name, spec, f"{path}.{name}", tenant)
            for name, spec in table.items()
        )

    def channel_or_broken(self, name: str, value: Any, path: str, tenant: str | None) -> Channel:
        """The channel; or, when it is wrong, a channel that carries the problem.

        One broken channel (an unset ``${VAR}``, a typo) must not stop sends to the
        others, nor silently drop what it should receive: it keeps its routing (what can
        be read of ``events`` and ``min_severity``) and every delivery routed to it is
        recorded as failed with the problem, ready for ``notify retry`` once it is fixed.
        """
        try:
            return self.channel(name, value, path, tenant)
        except ConfigError as exc:
            if self.problems is not None:
                self.problems.append(exc)
            table = value if isinstance(value, Mapping) else {}
            kw: dict[str, Any] = {}
            for key, read in (("events", self.strings), ("min_severity", self.severity)):
                if key in table:
                    with contextlib.suppress(ConfigError):  # the defaults route it then
                        kw[key] = read(table[key], f"{path}.{key}")
            provider = table.get("provider")
            return Channel(
                name=name,
                provider=provider if isinstance(provider, str) else "?",
                tenant=tenant,
                problem=str(exc),
                **kw,
            )

    def channel(self, name: str, value: Any, path: str, tenant: str | None) -> Channel:
        if not _CHANNEL_NAME.match(name):
            raise self.error(path, "channel names use letters, digits, '-', '_' and '.'")
        table = self.table(value, path)
        if "provider" not in table:
            raise self.error(f"{path}.provider", "missing (every channel names its provider)")
        provider = self.string(table["provider"], f"{path}.provider")
        try:
            spec = self.providers.spec(provider)
        except NotifyError as exc:
            raise self.error(f"{path}.provider", str(exc)) from None
        self.unknown(table, CORE_CHANNEL_KEYS | set(spec.channel_keys), path)
        kw: dict[str, Any] = {"name": name, "provider": provider, "tenant": tenant}
        if "url" in table:
            kw["url"] = self.string(table["url"], f"{path}.url")
        elif spec.requires_url:
            raise self.error(f"{path}.url", f"missing (a {provider} channel needs a url)")
        kw["options"] = {
            k: self.deep(table[k], f"{path}.{k}") for k in spec.channel_keys if k in table
        }
        if "settings" in table:
            kw["settings"] = self.deep(
                self.table(table["settings"], f"{path}.settings"), f"{path}.settings"
            )
        readers: dict[str, Callable[[Any, str], Any]] = {
            "events": self.strings,
            "min_severity": self.severity,
            "rate": self.rate,
            "retry": lambda value, at: self.retry(value, at, spec.default_retry),
            "timeout": lambda value, at: self.number(value, at, above=0),
            "enabled": self.boolean,
            "verify_tls": self.boolean,
            "cooldown": self.duration,
            "group": lambda value, at: read_group(self, value, at),
            "digest": lambda value, at: read_digest(self, value, at),
        }
        for key, read in readers.items():
            if key in table:
                kw[key] = read(table[key], f"{path}.{key}")
        if "group" in kw and "digest" in kw:
            raise self.error(
                f"{path}.digest",
                "a channel takes group or digest, not both (for a digest as well, "
                "configure a second channel with the same destination)",
            )
        if "description" in table:
            self.string(table["description"], f"{path}.description")
        return Channel(**kw)

    def rate(self, value: Any, path: str) -> Rate:
        table = self.table(value, path)
        self.unknown(table, {"per_second", "per_minute", "burst"}, path)
        if "per_second" in table:
            per_second = self.number(table["per_second"], f"{path}.per_second", above=0)
        elif "per_minute" in table:
            per_second = self.number(table["per_minute"], f"{path}.per_minute", above=0) / 60
        else:
            raise self.error(f"{path}.per_second", "missing (or give per_minute)")
        burst = self.integer(table.get("burst", 1), f"{path}.burst", minimum=1)
        return Rate(per_second=per_second, burst=burst)

    def limiter(self, value: Any, path: str) -> str:
        text = self.string(value, path)
        try:
            return parse_limiter(text, path)
        except ConfigError as exc:
            raise self.error(path, str(exc).removeprefix(f"{path}: ")) from None

    def retry(self, value: Any, path: str, base: RetryPolicy | None = None) -> RetryPolicy:
        """A retry table; keys it leaves out keep the provider's default, not the core's."""
        table = self.table(value, path)
        self.unknown(table, {"attempts", "backoff", "max_delay", "deadline"}, path)
        kw: dict[str, Any] = {}
        if "attempts" in table:
            kw["attempts"] = self.integer(table["attempts"], f"{path}.attempts", minimum=1)
        if "backoff" in table:
            kw["backoff"] = self.number(table["backoff"], f"{path}.backoff", minimum=0)
        if "max_delay" in table:
            kw["max_delay"] = self.duration(table["max_delay"], f"{path}.max_delay")
        if "deadline" in table:
            kw["deadline"] = self.duration(table["deadline"], f"{path}.deadline")
            if not kw["deadline"] > 0:
                raise self.error(f"{path}.deadline", "must be greater than 0")
        return attrs.evolve(base, **kw) if base is not None else RetryPolicy(**kw)

    def template(self, event: str, value: Any) -> EventTemplate:
        path = f"events.{event}"
        table = self.table(value, path)
        self.unknown(table, _TEMPLATE_KEYS, path)
        kw: dict[str, Any] = {"event": event}
        for key in ("title", "body", "dedup_key", "thread_id"):
            if key in table:
                kw[key] = self.string(table[key], f"{path}.{key}")
        if "severity" in table:
            kw["severity"] = self.severity(table["severity"], f"{path}.severity")
        for key in ("fields", "actions"):
            if key in table:
                pairs = self.table(table[key], f"{path}.{key}")
                kw[key] = tuple(
                    (str(k), self.string(v, f"{path}.{key}.{k}")) for k, v in pairs.items()
                )
        if "tags" in table:
            kw["tags"] = self.strings(table["tags"], f"{path}.tags")
        template = EventTemplate(**kw)
        try:
            template.check()
        except NotifyError as exc:
            raise self.error(path, str(exc)) from None
        return template


def read_channel(
    table: Mapping[str, Any],
    name: str,
    tenant: str | None,
    providers: Any,
    *,
    source: str | None = None,
) -> Channel:
    """A channel from a table shaped like ``[channels.NAME]``, validated as the file's are.

    This is how stored channels are built (added, edited, or read back from the store):
    the same code path as a configured channel, so the same keys, types and messages;
    errors name ``tenants.T.channels.NAME.KEY``. Strings are taken literally: ``${VAR}``
    is not looked up in this process's environment.
    """
    reader = _Reader(source or "", {}, providers, interpolate=False)
    path = f"tenants.{tenant}.channels.{name}" if tenant else f"channels.{name}"
    return reader.channel(name, table, path, tenant)


def read_tenant_file(
    path: str | os.PathLike[str],
    providers: Any,
    tenant: str,
    env: Mapping[str, str] | None = None,
) -> tuple[bool, tuple[Channel, ...]]:
    """``<tenants_dir>/<tenant>/notify.toml``: ``(enabled, channels)``; ConfigError when unreadable.

    Written by whoever deploys notify, like notify.toml, so ``${VAR}`` is interpolated.
    A broken channel is kept with its problem, as in the root file.
    """
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read tenant configuration: {exc}", source=source) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", source=source) from None
    reader = _Reader(source, os.environ if env is None else env, providers)
    return reader.tenant_file(data, tenant)


def valid_name(name: str) -> bool:
    """Whether ``name`` may name a channel or a tenant: letters, digits, ``-``, ``_``, ``.``."""
    return bool(_CHANNEL_NAME.match(name)) and name not in (".", "..")
