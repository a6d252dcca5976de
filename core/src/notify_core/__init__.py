"""notify: deliver notifications to any channel, durably.

This namespace is what an application needs: :class:`Notifier` and the messages it
sends, the channels and configuration it reads, the results it returns, and the errors
it raises. Plugin authors import from :mod:`notify_core.plugin`; tests of plugins and
applications use :mod:`notify_core.testing`. Modules starting with ``_`` are private.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names below are; at run time each is imported when first used
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
    from ._manage import ChannelConflict, ChannelManager, ChannelNotFound, ChannelReadOnly
    from ._models import Action, Field, Message, Severity
    from ._notifier import Notifier
    from ._plugins import Providers
    from ._results import DeliveryResult, PlannedDelivery, Progress, SendResult
    from ._routing import adhoc_channel
    from ._secrets import SecretKeyError
    from ._store import (
        AttemptRow,
        ChannelAudit,
        ChannelState,
        DeliveryRow,
        DeliveryStatus,
        Silence,
        StoredChannel,
    )

#: Public name -> the private module that defines it. Importing ``notify_core`` (which
#: every ``notify_core.X`` import does first, ``notify --help`` included) then costs
#: nothing: the pipeline, attrs, asyncio and the store load when a name is first used.
_EXPORTS = {
    "_channel": ("Channel", "Rate", "RetryPolicy"),
    "_clock": ("Clock",),
    "_config": ("Config", "find_config", "load_config", "parse_config"),
    "_convert": ("message_from_json", "message_to_json"),
    "_errors": (
        "ConfigError",
        "InvalidTarget",
        "NotifyError",
        "PayloadError",
        "StoreError",
        "StoreUnavailable",
        "TemplateError",
        "UnknownProvider",
    ),
    "_manage": ("ChannelConflict", "ChannelManager", "ChannelNotFound", "ChannelReadOnly"),
    "_models": ("Action", "Field", "Message", "Severity"),
    "_notifier": ("Notifier",),
    "_plugins": ("Providers",),
    "_results": ("DeliveryResult", "PlannedDelivery", "Progress", "SendResult"),
    "_routing": ("adhoc_channel",),
    "_secrets": ("SecretKeyError",),
    "_store": (
        "AttemptRow",
        "ChannelAudit",
        "ChannelState",
        "DeliveryRow",
        "DeliveryStatus",
        "Silence",
        "StoredChannel",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (then cached here).

    ``__version__`` is read from the installed metadata only when asked for (it costs ms).
    """
    module = _WHERE.get(name)
    if module is not None:
        from importlib import import_module

        value = getattr(import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("notify-core")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0+unknown"
    raise AttributeError(f"module 'notify_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Action",
    "AttemptRow",
    "Channel",
    "ChannelAudit",
    "ChannelConflict",
    "ChannelManager",
    "ChannelNotFound",
    "ChannelReadOnly",
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
    "SecretKeyError",
    "SendResult",
    "Severity",
    "Silence",
    "StoreError",
    "StoreUnavailable",
    "StoredChannel",
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
