"""Acceptance: one verdict per message × channel, before anything is stored.

A delivery is accepted, or recorded as skipped with the reason: a kill switch
(``NOTIFY_DISABLED``, ``NOTIFY_<PROVIDER>_ENABLED=false``, ``enabled = false``), a channel
switched off by hand or automatically, a silence in force, or a repeat inside the
channel's cooldown. Kill switches and disables are checked again when a stored
delivery is about to be sent (:meth:`Acceptance.recheck`); silences and cooldowns are
decided once, at acceptance.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._channel import Channel
from ._clock import Clock
from ._health import state_label
from ._models import Message
from ._store import Silence, Store

#: How long cached switches and silences are trusted when the store cannot say they changed.
_CACHE_SECONDS = 1.0


@attrs.frozen
class Verdict:
    """Accepted, or skipped with a reason people can read."""

    skip: str | None = None

    @property
    def accepted(self) -> bool:
        return self.skip is None


ACCEPTED = Verdict()


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _falsy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("0", "false", "no", "off")


def switch_reason(channel: Channel, env: Mapping[str, str]) -> str | None:
    """Kill switches set in the environment or the configuration (no store needed)."""
    if _truthy(env.get("NOTIFY_DISABLED")):
        return "NOTIFY_DISABLED is set"
    switch = f"NOTIFY_{channel.provider.upper().replace('-', '_')}_ENABLED"
    if _falsy(env.get(switch)):
        return f"{switch}={env[switch]}"
    if not channel.enabled:
        return "disabled in configuration (enabled = false)"
    return None


def silence_applies(silence: Silence, event: str, channel: str, tenant: str | None) -> bool:
    return (
        fnmatch.fnmatchcase(event, silence.event)
        and (silence.channel is None or silence.channel == channel)
        and (silence.tenant is None or silence.tenant == tenant)
    )


class Acceptance:
    """Decides verdicts; caches the store's rarely changing switches and silences."""

    def __init__(self, store: Callable[[], Store], env: Mapping[str, str], clock: Clock) -> None:
        # the store is opened on the first verdict that needs it: an ad hoc send that
        # fails validation, or a dry run, must not create a database
        self._store = store
        self.env = env
        self.clock = clock
        self._cache: dict[str, Any] = {}
        self._cache_key: tuple[int | None, float] | None = None

    @property
    def store(self) -> Store:
        return self._store()

    def _cached(self) -> dict[str, Any]:
        """The cache, emptied when the store says switches may have changed."""
        changes = self.store.changes()
        # a store that cannot tell is re-read once a second
        epoch = 0.0 if changes is not None else self.clock.monotonic() // _CACHE_SECONDS
        if self._cache_key != (changes, epoch):
            self._cache_key = (changes, epoch)
            self._cache.clear()
        return self._cache

    def off_reason(self, channel: Channel, cache: dict[str, Any] | None = None) -> str | None:
        """Why ``channel`` must not be sent to now: a kill switch or a disable, else None."""
        reason = switch_reason(channel, self.env)
        if reason:
            return reason
        cache = self._cached() if cache is None else cache
        key = "off:" + channel.key
        if key not in cache:
            state = self.store.channel_state(channel.key)
            cache[key] = state_label(state) if state.off else None
        off: str | None = cache[key]
        return off

    def silences(self, now: float, cache: dict[str, Any] | None = None) -> list[Silence]:
        cache = self._cached() if cache is None else cache
        if "silences" not in cache:
            cache["silences"] = self.store.silences(active_at=now)
        return [s for s in cache["silences"] if s.until > now]

    def verdict(self, channel: Channel, message: Message, tenant: str | None) -> Verdict:
        """The verdict for a new delivery of ``message`` to ``channel``."""
        cache = self._cached()  # asked of the store once a verdict, not once a question
        reason = self.off_reason(channel, cache)
        if reason:
            return Verdict(reason)
        now = self.clock.time()
        for silence in self.silences(now, cache):
            if silence_applies(silence, message.event, channel.name, tenant):
                why = f": {silence.reason}" if silence.reason else ""
                until = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(silence.until))
                return Verdict(f"silenced by {silence.id} until {until}{why}")
        if channel.cooldown:
            repeat = self.store.latest(
                channel.name, tenant, message.effective_dedup_key(), now - channel.cooldown
            )
            if repeat:
                return Verdict(f"cooldown: repeats delivery {repeat} within {channel.cooldown:g}s")
        return ACCEPTED

    def recheck(self, channel: Channel, *, explicit: bool = False) -> Verdict:
        """The verdict for a stored delivery about to be sent (a worker, a retry).

        An ``explicit`` retry (``notify retry``, in an incident) goes out even to a
        channel switched off by hand or automatically: someone asked for exactly this
        delivery. Kill switches in the environment and the configuration still hold.
        """
        reason = switch_reason(channel, self.env) if explicit else self.off_reason(channel)
        return Verdict(reason) if reason else ACCEPTED
