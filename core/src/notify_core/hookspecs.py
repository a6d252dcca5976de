"""The hooks a provider plugin implements: the public API for third parties.

A plugin is a module (or object) with functions marked ``@hookimpl`` (from
:mod:`notify_core.plugin`, which holds everything a plugin imports), registered through
the ``notify_core.providers`` entry-point group::

    [project.entry-points."notify_core.providers"]
    discord = "notify_discord"

Every hook but :func:`register_providers` and :func:`close_transports` receives the
:class:`~notify_core.plugin.Channel` being served; declare only the arguments you use
(pluggy passes arguments by name, so a hook may take fewer than its spec lists). The
core calls them only on the plugin that registered the channel's
provider, then on its own fallbacks; the first non-``None`` answer wins (pluggy
``firstresult``). A plugin that registers several providers tells them apart by
``channel.provider``; returning ``None`` for a channel of your own provider asks for
the core's default.

Most plugins implement only :func:`register_providers`, :func:`validate_url` and
:func:`build_payload`: the core's built-in :func:`send` posts the payload over HTTP
and its built-in :func:`classify_response` reads 2xx as delivered, 408/425/429/5xx as
retry (honouring ``Retry-After``) and the rest as permanent failure. Override
:func:`classify_response` when the service answers in its own way, and :func:`send`
when it is not plain HTTP (SMTP) or needs per-attempt work (request signing). A
service that threads messages under an id it returns (Slack's ``ts``) implements
:func:`thread_key` and returns the id in :attr:`Outcome.thread`; the core keeps it in
the store and passes it back to :func:`build_payload` as ``thread``.

Rules: never log or raise a secret in full; never sleep or retry (the core schedules
retries); never do I/O in :func:`build_payload` (it backs ``--dry-run`` and golden
tests). Raise :class:`~notify_core.plugin.InvalidTarget` (a ``SettingsReader`` raises it
for you, naming the key) or :class:`~notify_core.plugin.PayloadError` with a masked,
one-line message for bad input.

Versioning: :data:`HOOK_API_VERSION` grows by one for every incompatible change to
these signatures or to the classes they exchange; new optional fields and new hooks
do not bump it. A plugin may check it at import time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import httpx

    from ._channel import Channel
    from ._models import Message
    from ._provider import Outcome, Payload, ProviderSpec, SendContext, Target

PROJECT = "notify"
HOOK_API_VERSION = 1

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_providers() -> Sequence[ProviderSpec]:
    """Declare the providers this plugin implements (name, defaults, URL patterns, …).

    Called once at start-up; must be cheap and free of I/O.
    """
    raise AssertionError("hookspec")


@hookspec(firstresult=True)
def validate_url(channel: Channel) -> Target | None:
    """Check the channel's destination and say where to send and what is secret.

    Return a :class:`Target` for ``channel.url`` (or for the provider's endpoint when
    the destination is a key, as with PagerDuty's ``routing_key``), listing in
    ``Target.secrets`` every substring that must be masked. Raise
    :class:`InvalidTarget` with the expected shape (secret part masked) when the URL
    or key is malformed. Return ``None`` for channels of other providers.
    """
    raise AssertionError("hookspec")


@hookspec(firstresult=True)
def thread_key(channel: Channel, message: Message, target: Target) -> str | None:
    """The key of the thread ``message`` belongs to on this channel, or ``None`` (no thread).

    Messages of one channel with the same key form a thread: the core keeps what the
    provider returned for the first of them (:attr:`Outcome.thread`) in the store, shared
    by every process, and passes it to :func:`build_payload` as ``thread`` for the
    others. Until the first one is delivered (or has failed), the others wait for it,
    so two processes never start two threads. Pure and cheap, like ``build_payload``.
    Providers that do not thread need not implement it.
    """
    raise AssertionError("hookspec")


@hookspec(firstresult=True)
def build_payload(
    channel: Channel,
    message: Message,
    delivery_id: str,
    target: Target,
    thread: Mapping[str, Any] | None,
) -> Payload | None:
    """Turn a message into this service's request body. Pure: no I/O, no clock, no randomness.

    Enforce the service's limits here by trimming with a visible marker (``…``), never
    by producing something the service would reject. ``delivery_id`` is stable across
    attempts; include it where the service shows or stores an id. ``target`` is what
    :func:`validate_url` returned for this channel: read ``target.state`` instead of
    parsing the settings again (like every hook, declare only the arguments you use).
    ``thread`` is what the first delivered message of this message's thread left in
    :attr:`Outcome.thread` (``None`` for the first one, and when :func:`thread_key`
    gave no key); a payload with a thread is built again when its attempt starts, so
    it sees what was stored meanwhile.
    """
    raise AssertionError("hookspec")


@hookspec(firstresult=True)
def send(
    channel: Channel, payload: Payload, context: SendContext, client: httpx.AsyncClient
) -> Awaitable[Outcome] | None:
    """Start one attempt: return an awaitable of its :class:`Outcome`, or ``None``.

    The hook itself is synchronous so that "use the core's HTTP send" (``None``) can be
    told apart from work to await; return the coroutine of your async function::

        @hookimpl
        def send(channel, payload, context, client):
            return _send_mail(channel, payload, context)

    The awaited work must never block or sleep.

    The core gives the shared HTTP client (timeouts, TLS verification and redirect
    policy already set) and turns exceptions from it into retries. Return ``None`` to
    let the core's HTTP send do it. Implementations own the whole exchange, so a
    non-HTTP transport (SMTP) fits here; the core still queues, rate-limits, retries
    and records every attempt.
    """
    raise AssertionError("hookspec")


@hookspec
def close_transports() -> Awaitable[None] | None:
    """Close connections the plugin keeps itself (an SMTP pool); return a coroutine, or None.

    Called on the event loop that sent, when a notifier or worker closes. Plugins whose
    ``send`` uses the core's HTTP client keep nothing and need not implement it.
    """
    raise AssertionError("hookspec")


@hookspec(firstresult=True)
def classify_response(channel: Channel, response: httpx.Response) -> Outcome | None:
    """Read the service's answer as delivered, retry (with ``retry_after``) or failed.

    Keep the service's own reason (Slack's ``channel_not_found``, PagerDuty's
    ``errors``) in ``Outcome.reason``; set ``disables`` for answers that mean the
    destination is gone. Return ``None`` to use the core's generic reading.

    Bodies are whatever reached us, proxies' HTML pages included: read JSON with
    :func:`notify_core.plugin.read_json`, which never raises. If this hook raises
    anyway, the core uses its generic reading of the status (a 429 or 5xx is retried)
    and notes the exception in the reason; and whatever it returns, a 429 is retried.
    """
    raise AssertionError("hookspec")
