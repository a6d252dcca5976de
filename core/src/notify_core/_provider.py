"""The data that crosses the plugin boundary: what providers declare, build and return.

These classes are part of the hook API (see :mod:`notify_core.hookspecs`): add fields
with defaults only, never remove or retype one without bumping ``HOOK_API_VERSION``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from ._channel import Rate, RetryPolicy

Capability = Literal["rich", "mentions", "threads", "resolve", "actions", "fields"]


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _patterns(value: Any) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) if isinstance(p, str) else p for p in value)


@attrs.frozen(kw_only=True)
class ProviderSpec:
    """What a plugin declares about one provider it implements.

    ``url_patterns`` are regular expressions (``re.match``: anchored at the start) that make
    notify infer this provider for an ad hoc ``--url``; a catch-all provider (the
    generic webhook) leaves them empty and is only used when named. ``channel_keys``
    are the extra top-level keys a channel of this provider may set (PagerDuty's
    ``routing_key``); those in ``secret_keys`` are masked everywhere. ``limits`` is
    free-form documentation of the provider's payload limits, shown by
    ``notify plugins --json`` and used by the contract test kit. ``example`` is a
    channel's keys as TOML for ``notify init`` (secrets as ``${VARIABLES}``).
    """

    name: str
    description: str = ""
    default_rate: Rate = Rate(per_second=10.0, burst=10)
    default_retry: RetryPolicy = RetryPolicy()
    url_patterns: tuple[re.Pattern[str], ...] = attrs.field(default=(), converter=_patterns)
    capabilities: frozenset[Capability] = frozenset()
    channel_keys: tuple[str, ...] = ()
    secret_keys: tuple[str, ...] = ()
    requires_url: bool = True
    max_payload_bytes: int | None = None
    limits: Mapping[str, int] = attrs.field(factory=dict)
    #: the keys of a channel of this provider, as TOML (no table header): what
    #: ``notify init`` writes, commented out, into a starter configuration
    example: str = ""

    def recognizes(self, url: str) -> bool:
        return any(p.match(url) for p in self.url_patterns)


@attrs.frozen(kw_only=True)
class Target:
    """A validated destination: where to send, what is secret, and what the plugin parsed.

    ``secrets`` are exact substrings (a token path segment, a ``sig`` query value, a
    routing key) that the core scrubs from everything it stores, logs or prints; the
    core adds what its URL heuristics find, except values listed in ``public`` (a
    self-hosted service's topic name that merely looks random). ``display`` is the
    masked form shown to humans (the core masks ``url`` when it is empty).
    ``destination`` names what one rate limit paces when that is not "this URL with
    these credentials" (a chat on a bot token shared by several channels). ``state`` is
    whatever ``validate_url`` parsed (typed settings, a channel id): the core hands the
    target to ``build_payload``, so it need not parse again.
    """

    url: str = attrs.field(repr=False)
    secrets: tuple[str, ...] = attrs.field(default=(), repr=False, converter=_strings)
    display: str = ""
    public: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    destination: str | None = None
    state: Any = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Payload:
    """A request body as a provider wants it, plus the few HTTP facts it may need.

    ``body`` is JSON-serialisable data (or ``bytes`` / ``str`` sent as is). ``url``
    overrides the target URL (PagerDuty posts to its events endpoint). Building a
    payload is pure: same message and channel, same payload.
    """

    body: Any
    method: str = "POST"
    headers: Mapping[str, str] = attrs.field(factory=dict)
    url: str | None = None
    content_type: str = "application/json"
    _content: bytes | None = attrs.field(default=None, init=False, repr=False, eq=False)

    def content(self) -> bytes:
        """The bytes sent, serialised once (the size check and every attempt reuse them)."""
        if self._content is None:
            if isinstance(self.body, bytes):
                data = self.body
            elif isinstance(self.body, str):
                data = self.body.encode()
            else:
                data = json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()
            object.__setattr__(self, "_content", data)  # a cache, not state: frozen stays true
        assert self._content is not None
        return self._content


OutcomeStatus = Literal["delivered", "retry", "failed"]


@attrs.frozen(kw_only=True)
class Outcome:
    """How one attempt ended, as the provider's answer means it.

    ``retry`` asks the core to try again (after ``retry_after`` seconds if the provider
    said so); ``failed`` is permanent. ``disables`` marks a failure that says the
    destination itself is gone (Slack's ``channel_is_archived``): it counts toward
    auto-disable even when other failures would not. ``meta`` is stored with the
    delivery (PagerDuty's returned ``dedup_key``).

    ``throttled`` (with ``retry``) says the provider asked us to slow down: the message
    is fine and the destination works, we were merely too fast. Such an attempt costs
    no retry budget: it is retried after ``retry_after`` (or a backoff) until the
    channel's ``retry.deadline``. :func:`~notify_core.plugin.generic_outcome` sets it
    for HTTP 429; set it yourself when a service says "slow down" another way (Slack's
    ``ratelimited`` with HTTP 200). Not for "try later" in general: SMTP's 421/451 are
    a busy or failing server, ordinary transient failures.

    For a delivery with a thread key (see :func:`~notify_core.hookspecs.thread_key`),
    ``thread`` is what to remember about the thread after a delivered attempt (Slack's
    ``channel`` and ``ts`` of the first message): the core stores it if nothing is
    stored for that key yet (the first one wins) and hands it to ``build_payload`` for
    every later message of the thread. ``end_thread`` forgets the key once this attempt
    is delivered (a resolve closes the incident's thread; the next trigger starts anew).
    """

    status: OutcomeStatus
    reason: str = ""
    http_status: int | None = None
    retry_after: float | None = None
    response_excerpt: str = ""
    disables: bool = False
    meta: Mapping[str, Any] = attrs.field(factory=dict)
    throttled: bool = False
    thread: Mapping[str, Any] | None = None
    end_thread: bool = False

    @classmethod
    def delivered(cls, reason: str = "ok", **kw: Any) -> Outcome:
        return cls(status="delivered", reason=reason, **kw)

    @classmethod
    def retry(cls, reason: str, **kw: Any) -> Outcome:
        return cls(status="retry", reason=reason, **kw)

    @classmethod
    def failed(cls, reason: str, **kw: Any) -> Outcome:
        return cls(status="failed", reason=reason, **kw)


@attrs.frozen(kw_only=True)
class SendContext:
    """Facts about the attempt under way that a ``send`` hook may need.

    ``delivery_id`` is stable across every attempt of one delivery: send it where the
    provider takes an idempotency key (the core's HTTP send adds ``Idempotency-Key``).
    """

    delivery_id: str
    attempt: int
    timeout: float
    target: Target
