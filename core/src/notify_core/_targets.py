"""Targets: each channel's destination validated once, with everything secret about it.

Validation asks the channel's plugin (``validate_url``); the answer is kept with the
:class:`~notify_core.plugin.Masker` that hides the channel's secrets and the masked form
people see, so neither is rebuilt per message. A channel that cannot be validated is a
:class:`ConfigError` naming the key at fault.
"""

from __future__ import annotations

import attrs

from ._channel import Channel
from ._errors import ConfigError, InvalidTarget
from ._masking import Masker
from ._plugins import Providers
from ._provider import Target


@attrs.frozen
class PreparedChannel:
    """A channel ready to send to: its target, its masker and its masked display."""

    channel: Channel
    target: Target
    masker: Masker
    display: str


class Targets:
    """Validated channels, cached by channel key (a changed channel is validated again)."""

    def __init__(self, providers: Providers, source: str = "<memory>") -> None:
        self.providers = providers
        self.source = source
        self._prepared: dict[str, PreparedChannel] = {}

    def prepare(self, channel: Channel) -> PreparedChannel:
        if channel.problem:
            raise ConfigError(channel.problem)
        prepared = self._prepared.get(channel.key)
        if prepared is None or prepared.channel != channel:
            try:
                target = self.providers.validate(channel)
            except InvalidTarget as exc:
                if channel.adhoc:
                    raise
                where = f"tenants.{channel.tenant}.channels" if channel.tenant else "channels"
                source = "stored channel" if channel.stored else self.source
                raise ConfigError(
                    str(exc), source=source, path=f"{where}.{channel.name}.{exc.key}"
                ) from None
            masker = self.providers.masker(channel, target)
            display = self.providers.display(channel, target, masker)
            prepared = PreparedChannel(channel, target, masker, display)
            self._prepared[channel.key] = prepared
        return prepared
