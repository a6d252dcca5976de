"""Everything a provider plugin imports, in one namespace.

::

    from notify_core.plugin import ProviderSpec, Payload, Target, hookimpl

The hooks themselves are specified in :mod:`notify_core.hookspecs`; the plugin guide
(``docs/plugins.md``) walks through them. What is here falls in five groups:

- the hook marker and the classes that cross the plugin boundary: :data:`hookimpl`,
  :class:`ProviderSpec`, :class:`Target`, :class:`Payload`, :class:`Outcome`,
  :class:`SendContext`, and the models a hook receives (:class:`Channel`,
  :class:`Message`, :class:`Field`, :class:`Action`, :class:`Severity`, :class:`Rate`,
  :class:`RetryPolicy`);
- reading input: :class:`SettingsReader` (unknown keys refused, typed reads, one way to
  report a bad setting) and the errors :class:`InvalidTarget` and :class:`PayloadError`;
- HTTP: :func:`http_send` (for ``send`` hooks that add per-attempt headers),
  :func:`generic_outcome` (the core's reading of an answer, with the service's own
  error fields), :func:`read_json`, :func:`json_field`, :func:`http_reason`,
  :func:`parse_retry_after` (``Retry-After`` in seconds or as an HTTP date);
- secrets: :class:`Masker`, :func:`mask_value`, :func:`masked_url`, :func:`url_secrets`,
  :data:`MASK` (what stands for a secret), :data:`MIN_SECRET` (shorter values are never
  masked);
- fitting text into a service's limits: :func:`truncate`, :func:`truncate_bytes`,
  :func:`fit_json`, :func:`json_len`, :func:`cap`, :func:`chunks`, :data:`MARKER`,
  :func:`severity_color`, :data:`SEVERITY_COLORS`, :func:`state_word`, :func:`utc` (a
  message's time, naive taken as UTC), and the template helpers :func:`placeholders` and
  :func:`render`.
"""

from __future__ import annotations

from ._channel import Channel, Rate, RetryPolicy
from ._errors import InvalidTarget, PayloadError, TemplateError
from ._http import generic_outcome, http_reason, http_send, json_field, read_json
from ._masking import MASK, MIN_SECRET, Masker, mask_value, masked_url, url_secrets
from ._models import Action, Field, IncidentState, Message, Severity, utc
from ._provider import Capability, Outcome, Payload, ProviderSpec, SendContext, Target
from ._retry import parse_retry_after
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
    state_word,
    truncate,
    truncate_bytes,
)
from .hookspecs import HOOK_API_VERSION, hookimpl

__all__ = [
    "HOOK_API_VERSION",
    "MARKER",
    "MASK",
    "MIN_SECRET",
    "SEVERITY_COLORS",
    "Action",
    "Capability",
    "Channel",
    "Field",
    "IncidentState",
    "InvalidTarget",
    "Masker",
    "Message",
    "Outcome",
    "Payload",
    "PayloadError",
    "ProviderSpec",
    "Rate",
    "RetryPolicy",
    "SendContext",
    "SettingsReader",
    "Severity",
    "Target",
    "TemplateError",
    "cap",
    "chunks",
    "fit_json",
    "generic_outcome",
    "hookimpl",
    "http_reason",
    "http_send",
    "json_field",
    "json_len",
    "mask_value",
    "masked_url",
    "parse_retry_after",
    "placeholders",
    "read_json",
    "render",
    "severity_color",
    "state_word",
    "truncate",
    "truncate_bytes",
    "url_secrets",
    "utc",
]
