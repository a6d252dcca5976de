"""Plugin discovery and the provider registry: the core's only door to providers."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs
import pluggy

from . import hookspecs
from ._channel import Channel
from ._entrypoints import ENTRY_POINT_GROUP, PluginEntry, plugin_index
from ._errors import InvalidTarget, NotifyError, PayloadError, UnknownProvider
from ._http import CorePlugin, generic_outcome
from ._masking import Masker, is_secret_key, url_secrets
from ._models import Message
from ._provider import Outcome, Payload, ProviderSpec, SendContext, Target

if TYPE_CHECKING:
    import httpx

BLOCK_ENV = "NOTIFY_BLOCK_PLUGINS"


@attrs.frozen
class InstalledProvider:
    """A provider as ``notify plugins`` lists it."""

    spec: ProviderSpec
    plugin: str
    distribution: str
    version: str


def blocked_plugins(env: Mapping[str, str] | None = None) -> frozenset[str]:
    """Names in ``$NOTIFY_BLOCK_PLUGINS`` (comma or space separated) that must not load."""
    raw = (env if env is not None else os.environ).get(BLOCK_ENV, "")
    return frozenset(p.strip() for p in raw.replace(",", " ").split() if p.strip())


class Providers:
    """The plugin manager plus what the plugins declared, with typed calls into them."""

    def __init__(self, pm: pluggy.PluginManager | None = None, *, forgiving: bool = True) -> None:
        self.pm = pm or pluggy.PluginManager(hookspecs.PROJECT)
        #: mend a plugin's mistakes in reading answers (see :meth:`classify`); the
        #: contract kit turns it off so that the mistakes show
        self.forgiving = forgiving
        self.pm.add_hookspecs(hookspecs)
        self._origins: dict[int, tuple[str, str, str]] = {}
        self._specs: dict[str, InstalledProvider] | None = None
        self._owners: dict[str, object] = {}
        self._callers: dict[tuple[str, str], pluggy.HookCaller] = {}
        self._core = CorePlugin(self.classify, self.classifies_plainly)
        self._plain: dict[str, bool] = {}
        self.pm.register(self._core, name="notify_core.builtin")
        #: entry points skipped because ``NOTIFY_BLOCK_PLUGINS`` names them
        self.blocked: dict[str, str] = {}
        #: discovered entry points not imported yet, by name (see :meth:`discover`)
        self._pending: dict[str, PluginEntry] = {}
        from ._console import ConsolePlugin  # the one provider that needs nothing installed

        self._register(ConsolePlugin(), name="console", distribution="notify-core")

    @classmethod
    def discover(cls, env: Mapping[str, str] | None = None) -> Providers:
        """Every plugin of the entry-point group that is not blocked, imported when needed.

        Importing a plugin costs milliseconds (its own imports: SMTP, e-mail parsing,
        Slack's blocks); a process that sends to one provider needs one. So a plugin is
        imported when a provider it declares is asked for: the plugin whose entry point
        has the provider's name first (the convention: ``slack = "notify_slack"``),
        every other one when that one does not declare it, and every one for what needs
        them all (:attr:`installed`, :meth:`infer`, an unknown name's error).
        """
        providers = cls()
        blocked = blocked_plugins(env)
        for ep in plugin_index(ENTRY_POINT_GROUP).entries:  # cached: see _entrypoints
            if ep.name in blocked:
                providers.blocked[ep.name] = ep.value
                continue
            providers._pending.setdefault(ep.name, ep)
        return providers

    def _load_pending(self, name: str | None = None) -> None:
        """Import the discovered plugins still waiting: the one named, or all of them."""
        if name is None:
            entries = list(self._pending.values())
            self._pending.clear()
        else:
            entry = self._pending.pop(name, None)
            entries = [entry] if entry is not None else []
        for ep in entries:
            self._load(ep)

    def _load(self, ep: PluginEntry) -> None:
        try:
            plugin = ep.load()
        except Exception as exc:  # say which plugin, and how to run without it
            raise NotifyError(
                f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}; "
                f"set {BLOCK_ENV}={ep.name} to skip it"
            ) from exc
        if self.pm.is_registered(plugin):
            return
        self._register(
            plugin,
            name=ep.name,
            distribution=ep.distribution,
            version=ep.version,
        )

    def register(
        self, plugin: object, *, name: str | None = None, distribution: str = "", version: str = ""
    ) -> None:
        """Register a plugin object by hand (tests, host applications).

        The discovered plugins are imported first, so that what they declare keeps
        precedence over a plugin registered later, as when every one was imported at once.
        """
        self._load_pending()
        self._register(plugin, name=name, distribution=distribution, version=version)

    def _register(
        self, plugin: object, *, name: str | None = None, distribution: str = "", version: str = ""
    ) -> None:
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        self.pm.register(plugin, name=name)
        self._origins[id(plugin)] = (name, distribution, version)
        self._specs = None
        self._callers.clear()
        self._plain.clear()

    # -- declarations --------------------------------------------------------------

    @property
    def installed(self) -> dict[str, InstalledProvider]:
        """Every provider of every plugin (this imports the plugins not imported yet)."""
        self._load_pending()
        return self._declared()

    def _find(self, name: str) -> InstalledProvider | None:
        """The provider ``name``, importing only the plugins needed to find it."""
        found = self._declared().get(name)
        if found is None and self._pending:
            self._load_pending(name)
            found = self._declared().get(name)
            if found is None:
                self._load_pending()
                found = self._declared().get(name)
        return found

    def _declared(self) -> dict[str, InstalledProvider]:
        """The providers of the plugins registered so far."""
        if self._specs is None:
            specs: dict[str, InstalledProvider] = {}
            for impl in self.pm.hook.register_providers.get_hookimpls():
                plugin_name, dist, version = self._origins.get(
                    id(impl.plugin), (impl.plugin_name, "", "")
                )
                declared = cast("Iterable[ProviderSpec]", impl.function() or ())
                for spec in declared:
                    if spec.name not in specs:
                        specs[spec.name] = InstalledProvider(spec, plugin_name, dist, version)
                        self._owners[spec.name] = impl.plugin
            self._specs = dict(sorted(specs.items()))
        return self._specs

    def _hook(self, name: str, provider: str) -> pluggy.HookCaller:
        """A hook as the provider's own plugin (and the core's fallbacks) implement it.

        A channel's hooks go only to the plugin that registered its provider: a plugin
        that forgot its ``channel.provider`` check cannot answer for another service.
        """
        caller = self._callers.get((name, provider))
        if caller is None:
            self.spec(provider)  # unknown provider: the usual clear error
            owner = self._owners[provider]
            others = [p for p in self.pm.get_plugins() if p is not owner and p is not self._core]
            caller = self._callers[(name, provider)] = self.pm.subset_hook_caller(name, others)
        return caller

    def classifies_plainly(self, provider: str) -> bool:
        """Whether only the core reads ``provider``'s answers (no plugin ``classify_response``).

        Such answers need no ``httpx.Response``: the core's reading
        (:func:`~notify_core.plugin.generic_outcome`) takes aiohttp's answer as it is.
        """
        plain = self._plain.get(provider)
        if plain is None:
            impls = self._hook("classify_response", provider).get_hookimpls()
            plain = self._plain[provider] = all(i.plugin is self._core for i in impls)
        return plain

    def classify(self, channel: Channel, response: httpx.Response) -> Outcome:
        """What the provider makes of an HTTP answer (the core's reading by default).

        A plugin that cannot read an answer (it raised) gets the core's generic reading
        of the status, so an HTML 429 from a proxy is retried, not lost; and whatever a
        plugin says, a 429 is never a permanent failure.
        """
        hook = self._hook("classify_response", channel.provider)
        if not self.forgiving:
            strict: Outcome = hook(channel=channel, response=response)
            return strict
        try:
            outcome: Outcome = hook(channel=channel, response=response)
        except Exception as exc:
            generic = generic_outcome(response)
            why = f"{channel.provider} could not read the answer: {type(exc).__name__}: {exc}"
            return attrs.evolve(generic, reason=f"{generic.reason} ({why})")
        if response.status_code == 429 and outcome.status == "failed":
            outcome = attrs.evolve(outcome, status="retry", disables=False)
        return outcome

    def spec(self, name: str) -> ProviderSpec:
        found = self._find(name)
        if found is None:
            raise UnknownProvider(self._unknown_message(name))
        return found.spec

    def _unknown_message(self, name: str) -> str:
        """What to do about a provider that is not there: unblock, fix a typo, or install."""
        if name in self.blocked:
            return (
                f"provider {name!r} is installed but blocked by {BLOCK_ENV}; "
                f"remove {name!r} from {BLOCK_ENV} to use it"
            )
        names = list(self.installed)
        have = ", ".join(names) or "none"
        import difflib  # an unknown provider's name is rare: its hint loads this

        close = difflib.get_close_matches(name, names, n=1)
        if close:
            return f"unknown provider {name!r}: did you mean {close[0]!r}? (installed: {have})"
        return (
            f"unknown provider {name!r} (installed: {have}); "
            f"if it is a plugin, install it, e.g. `pip install notify-{name}`"
        )

    def infer(self, url: str) -> str:
        """The provider whose URL patterns match ``url``."""
        for name, provider in self.installed.items():
            if provider.spec.recognizes(url):
                return name
        shown = Masker(url_secrets(url)).text(url)
        raise InvalidTarget(
            f"cannot tell which provider serves {shown}; pass --provider "
            f"(installed: {', '.join(self.installed) or 'none'})"
        )

    # -- calls ---------------------------------------------------------------------

    def validate(self, channel: Channel) -> Target:
        """Ask the channel's provider to check its destination."""
        spec = self.spec(channel.provider)
        if spec.requires_url and not channel.url:
            raise InvalidTarget(f"provider {channel.provider!r} needs a url")
        target: Target | None = self._hook("validate_url", channel.provider)(channel=channel)
        if target is None:
            if not channel.url:
                raise InvalidTarget(f"provider {channel.provider!r} did not validate the channel")
            target = Target(url=channel.url)
        return target

    def masker(self, channel: Channel, target: Target) -> Masker:
        """Every secret of a channel: the plugin's word, declared keys, and URL heuristics.

        The heuristics guess; values the plugin declared public (``Target.public``: a
        topic name, a chat id) are never taken for secrets.
        """
        spec = self._find(channel.provider)
        secrets: list[str] = list(target.secrets)
        public = set(target.public)
        for url in (channel.url, target.url):
            if url:
                secrets.extend(s for s in url_secrets(url) if s not in public)
        keys = spec.spec.secret_keys if spec else ()
        for key in keys:
            value = channel.options.get(key)
            if isinstance(value, str):
                secrets.append(value)
        secrets.extend(_secret_settings(channel.settings))
        return Masker(secrets)

    def display(self, channel: Channel, target: Target, masker: Masker | None = None) -> str:
        """The masked destination people see: the plugin's own, or its URL masked."""
        if target.display:
            return target.display
        return (masker or self.masker(channel, target)).text(target.url)

    def thread_key(self, channel: Channel, message: Message, target: Target) -> str | None:
        """The thread the message belongs to on this channel (None: the provider does not thread).

        A message with a raw override is sent as given, so it is never threaded.
        """
        if channel.provider in message.overrides:
            return None
        try:
            key: str | None = self._hook("thread_key", channel.provider)(
                channel=channel, message=message, target=target
            )
        except NotifyError:
            raise
        except Exception as exc:
            raise PayloadError(
                f"provider {channel.provider!r} failed to name the thread: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return key or None

    def build(
        self,
        channel: Channel,
        message: Message,
        delivery_id: str,
        target: Target | None = None,
        thread: Mapping[str, Any] | None = None,
    ) -> Payload:
        """The provider's payload, or the message's raw override for this provider.

        ``target`` is the channel's validated target (validated here when not given):
        what ``validate_url`` parsed reaches ``build_payload`` through it. ``thread`` is
        the stored metadata of the message's thread, if any.
        """
        override = message.overrides.get(channel.provider)
        if override is not None:
            return Payload(body=override)
        if target is None:
            target = self.validate(channel)
        try:
            payload: Payload | None = self._hook("build_payload", channel.provider)(
                channel=channel,
                message=message,
                delivery_id=delivery_id,
                target=target,
                thread=thread,
            )
        except NotifyError:
            raise
        except Exception as exc:
            raise PayloadError(
                f"provider {channel.provider!r} failed to build a payload: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if payload is None:
            raise PayloadError(f"no plugin builds payloads for provider {channel.provider!r}")
        spec = self.spec(channel.provider)
        if spec.max_payload_bytes is not None:
            size = len(payload.content())
            if size > spec.max_payload_bytes:
                raise PayloadError(
                    f"{channel.provider} payload is {size} bytes, over the provider's limit "
                    f"of {spec.max_payload_bytes}"
                )
        return payload

    async def send(
        self,
        channel: Channel,
        payload: Payload,
        context: SendContext,
        client: httpx.AsyncClient,
    ) -> Outcome:
        awaitable = self._hook("send", channel.provider)(
            channel=channel, payload=payload, context=context, client=client
        )
        outcome: Outcome = await awaitable
        return outcome

    async def close_transports(self) -> None:
        """Let plugins that keep connections of their own (SMTP) close them."""
        for awaitable in self.pm.hook.close_transports():
            if awaitable is not None:
                await awaitable


def _secret_settings(settings: Mapping[str, Any], key: str = "") -> Iterable[str]:
    for k, v in settings.items():
        if isinstance(v, Mapping):
            yield from _secret_settings(v, str(k))
        elif isinstance(v, str) and v and (is_secret_key(str(k)) or is_secret_key(key)):
            yield v
