"""notify: deliver notifications to any channel, durably.

This namespace is what an application needs: :class:`Notifier` and the messages it
sends, the channels and configuration it reads, the results it returns, and the errors
it raises. Plugin authors import from :mod:`notify_core.plugin`; tests of plugins and
applications use :mod:`notify_core.testing`. Modules starting with ``_`` are private.
"""

from __future__ import annotations

from typing import Any

from ._channel import Channel, Rate, RetryPolicy
from ._clock import Clock
from ._config import Config, find_config, load_config, parse_config
from ._convert import message_from_json, message_to_json
from ._errors import (
    ConfigError,
    InvalidTarget,
    NotifyError,
    PayloadError,
    StoreError,
    StoreUnavailable,
    TemplateError,
    UnknownProvider,
)
from ._models import Action, Field, Message, Severity
from ._notifier import Notifier
from ._plugins import Providers
from ._results import DeliveryResult, PlannedDelivery, Progress, SendResult
from ._routing import adhoc_channel
from ._store import AttemptRow, ChannelState, DeliveryRow, DeliveryStatus, Silence


def __getattr__(name: str) -> Any:
    """``__version__``, read from the installed metadata only when asked for (it costs ms)."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("notify-core")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0+unknown"
    raise AttributeError(f"module 'notify_core' has no attribute {name!r}")


__all__ = [
    "Action",
    "AttemptRow",
    "Channel",
    "ChannelState",
    "Clock",
    "Config",
    "ConfigError",
    "DeliveryResult",
    "DeliveryRow",
    "DeliveryStatus",
    "Field",
    "InvalidTarget",
    "Message",
    "Notifier",
    "NotifyError",
    "PayloadError",
    "PlannedDelivery",
    "Progress",
    "Providers",
    "Rate",
    "RetryPolicy",
    "SendResult",
    "Severity",
    "Silence",
    "StoreError",
    "StoreUnavailable",
    "TemplateError",
    "UnknownProvider",
    "__version__",
    "adhoc_channel",
    "find_config",
    "load_config",
    "message_from_json",
    "message_to_json",
    "parse_config",
]
