"""notify: deliver notifications to any channel, durably.

The public API lives here; everything in modules starting with ``_`` is private.
Plugin authors need :mod:`notify_core.hookspecs` and the classes re-exported below.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from ._channel import Channel, Rate, RetryPolicy
from ._config import Config, find_config, load_config, parse_config
from ._convert import message_from_dict, message_from_json, message_to_dict, message_to_json
from ._dispatch import DeliveryResult
from ._duration import parse_duration
from ._errors import (
    ConfigError,
    InvalidTarget,
    NotifyError,
    PayloadError,
    StoreError,
    TemplateError,
    UnknownProvider,
)
from ._http import generic_outcome, http_send
from ._masking import Masker, mask_value, url_secrets
from ._models import Action, Field, Message, Severity
from ._notifier import Notifier, PlannedDelivery, SendResult, adhoc_channel
from ._plugins import BLOCK_ENV, ENTRY_POINT_GROUP, InstalledProvider, Providers
from ._provider import Outcome, Payload, ProviderSpec, SendContext, Target
from ._settings import SettingsReader
from ._template import placeholders, render
from ._text import (
    MARKER,
    SEVERITY_COLORS,
    cap,
    chunks,
    fit_json,
    json_len,
    severity_color,
    truncate,
    truncate_bytes,
)
from .hookspecs import HOOK_API_VERSION, hookimpl

try:
    __version__ = _version("notify-core")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "BLOCK_ENV",
    "ENTRY_POINT_GROUP",
    "HOOK_API_VERSION",
    "MARKER",
    "SEVERITY_COLORS",
    "Action",
    "Channel",
    "Config",
    "ConfigError",
    "DeliveryResult",
    "Field",
    "InstalledProvider",
    "InvalidTarget",
    "Masker",
    "Message",
    "Notifier",
    "NotifyError",
    "Outcome",
    "Payload",
    "PayloadError",
    "PlannedDelivery",
    "ProviderSpec",
    "Providers",
    "Rate",
    "RetryPolicy",
    "SendContext",
    "SendResult",
    "SettingsReader",
    "Severity",
    "StoreError",
    "Target",
    "TemplateError",
    "UnknownProvider",
    "__version__",
    "adhoc_channel",
    "cap",
    "chunks",
    "find_config",
    "fit_json",
    "generic_outcome",
    "hookimpl",
    "http_send",
    "json_len",
    "load_config",
    "mask_value",
    "message_from_dict",
    "message_from_json",
    "message_to_dict",
    "message_to_json",
    "parse_config",
    "parse_duration",
    "placeholders",
    "render",
    "severity_color",
    "truncate",
    "truncate_bytes",
    "url_secrets",
]
