"""The message model: what a caller hands to notify, independent of any provider.

Frozen attrs classes so a message can be shared between channels and tasks without
copies, and so payload builders (which must be pure) cannot mutate it by accident.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Literal

import attrs


class Severity(str, enum.Enum):
    """How bad it is. Ordered: ``info < warning < error < critical``."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        if isinstance(value, Severity):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {value!r} (choose one of {choices})") from None


_RANKS = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2, Severity.CRITICAL: 3}

ActionStyle = Literal["default", "primary", "danger"]
IncidentState = Literal["trigger", "acknowledge", "resolve"]


def clean(value: object) -> str:
    """``value`` as text that can always be encoded: undecodable input becomes U+FFFD.

    Text from a shell or a log file may hold bytes that are not UTF-8; Python carries
    them as lone surrogates (``surrogateescape``), which no JSON encoder, database or
    HTTP body accepts. Replacing them where a message is made means the notification
    is delivered, with a visible mark where the bad bytes were, instead of lost.
    """
    text = value if isinstance(value, str) else str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    return text


def _clean_data(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, Mapping):
        return {clean(k) if isinstance(k, str) else k: _clean_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_data(v) for v in value]
    return value


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time; a naive one is taken as UTC, never as local time.

    A message's ``timestamp`` may be naive (a caller's ``datetime.utcnow()``); every
    provider that shows or sends the time reads it through this, so none guesses a zone.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _to_severity(value: str | Severity) -> Severity:
    return Severity.parse(value)


def _freeze_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value or {})


def _data(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    cleaned: Mapping[str, Any] = _clean_data(dict(value or {}))
    return cleaned


def _optional(value: object) -> str | None:
    return None if value is None else clean(value)


@attrs.frozen
class Field:
    """One labelled value shown with the message (a metric, a run id, a link text)."""

    name: str = attrs.field(converter=clean)
    value: str = attrs.field(converter=clean)
    short: bool = True


@attrs.frozen
class Action:
    """A button that opens a URL ("View results", "Open run")."""

    label: str = attrs.field(converter=clean)
    url: str = attrs.field(converter=clean)
    style: ActionStyle = "default"


def _tags(value: Any) -> tuple[str, ...]:
    return tuple(clean(v) for v in value or ())


def _fields(value: Any) -> tuple[Field, ...]:
    if isinstance(value, Mapping):
        return tuple(Field(k, v) for k, v in value.items())
    return tuple(v if isinstance(v, Field) else Field(*v) for v in value or ())


def _actions(value: Any) -> tuple[Action, ...]:
    if isinstance(value, Mapping):
        return tuple(Action(k, v) for k, v in value.items())
    return tuple(v if isinstance(v, Action) else Action(*v) for v in value or ())


@attrs.frozen(kw_only=True)
class Message:
    """A notification, before any provider has shaped it.

    ``fields`` and ``actions`` keep the caller's order (mappings are accepted and keep
    theirs). ``data`` is the raw event data, for providers that forward it
    (PagerDuty ``custom_details``, webhook templates). ``overrides`` maps a provider
    name to a raw payload that replaces the built one for that provider alone.
    ``state`` is the incident lifecycle the message reports; providers that know
    incidents (PagerDuty) act on it, the others show it. Text that cannot be encoded
    (undecodable bytes from a shell or a file) is kept with U+FFFD in their place.
    """

    title: str = attrs.field(converter=clean)
    body: str = attrs.field(default="", converter=clean)
    event: str = attrs.field(default="", converter=clean)
    severity: Severity = attrs.field(default=Severity.INFO, converter=_to_severity)
    fields: tuple[Field, ...] = attrs.field(default=(), converter=_fields)
    actions: tuple[Action, ...] = attrs.field(default=(), converter=_actions)
    dedup_key: str | None = attrs.field(default=None, converter=_optional)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_tags)
    timestamp: datetime = attrs.field(factory=_utcnow)
    data: Mapping[str, Any] = attrs.field(factory=dict, converter=_data)
    overrides: Mapping[str, Any] = attrs.field(factory=dict, converter=_freeze_mapping)
    state: IncidentState = attrs.field(
        default="trigger", validator=attrs.validators.in_(("trigger", "acknowledge", "resolve"))
    )
    thread_id: str | None = attrs.field(default=None, converter=_optional)

    def effective_dedup_key(self) -> str:
        """The key that identifies "the same notification again": explicit, else event + title."""
        if self.dedup_key:
            return self.dedup_key
        return f"{self.event}:{self.title}" if self.event else self.title
