"""Channel health: success and failure bookkeeping, and the auto-disable policy.

A channel whose deliveries fail for good ``auto_disable_after`` times in a row (10 by
default) is switched off automatically, shared through the store by every process;
its later deliveries are recorded as skipped until someone runs ``notify enable``.
Exactly one process makes the switch (the store answers True once), and that one
reports it through ``on_disabled`` so the core can emit ``notify.channel.disabled``.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from ._channel import Channel
from ._clock import Clock
from ._store import ChannelState, Store

#: A healthy channel's ``last_success`` is written at most this often per process: it is
#: for humans, and writing it per delivery was a third of the store's work.
SUCCESS_EVERY = 1.0


@attrs.frozen(kw_only=True)
class Disabled:
    """A channel just switched off automatically, and why."""

    channel: Channel
    failures: int
    last_error: str

    @property
    def reason(self) -> str:
        return f"{self.failures} consecutive failures; last: {self.last_error}"


class Health:
    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        auto_disable_after: int = 10,
        on_disabled: Callable[[Disabled], None] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.auto_disable_after = auto_disable_after
        self.on_disabled = on_disabled
        self._noted: dict[str, float] = {}

    def success(self, key: str) -> None:
        now = self.clock.monotonic()
        if now - self._noted.get(key, -SUCCESS_EVERY) >= SUCCESS_EVERY:
            self.store.note_success(key)
            self._noted[key] = now

    def failure(self, channel: Channel, reason: str) -> Disabled | None:
        """Count a permanent failure; the :class:`Disabled` when it switched the channel off."""
        key = channel.key
        self._noted.pop(key, None)
        count = self.store.note_failure(key, reason)
        if count < self.auto_disable_after:
            return None
        disabled = Disabled(channel=channel, failures=count, last_error=reason)
        if not self.store.auto_disable(key, disabled.reason):
            return None  # already off, or another process switched it first
        if self.on_disabled is not None:
            self.on_disabled(disabled)
        return disabled


def state_label(state: ChannelState, enabled_in_config: bool = True) -> str:
    """A channel's switch as one phrase: ``enabled``, ``auto-disabled after …``, …"""
    if not enabled_in_config:
        return "disabled in configuration"
    if state.auto_disabled:
        return f"auto-disabled after {state.disabled_reason or 'repeated failures'}"
    if state.disabled:
        reason = state.disabled_reason
        return (
            f"disabled by hand: {reason}"
            if reason and reason != "disabled by hand"
            else ("disabled by hand")
        )
    return "enabled"
