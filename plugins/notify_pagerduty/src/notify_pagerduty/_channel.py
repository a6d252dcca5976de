"""What a PagerDuty channel says: its routing key, its region and its settings.

A PagerDuty destination is a key, not a URL, so everything is checked here once, by
``validate_url``: a typo then fails ``notify send`` with exit 2 before anything is
stored, instead of becoming a 400 from PagerDuty at 3 a.m. ``build_payload`` gets the
checked :class:`PagerDutyChannel` in ``Target.state``. No message built here ever holds
the key: it is shown masked, as the core masks it everywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from notify_core.plugin import (
    MASK,
    InvalidTarget,
    SettingsReader,
    mask_value,
    masked_url,
    truncate,
)

Region = Literal["us", "eu"]
EventAction = Literal["trigger", "acknowledge", "resolve"]

#: The Events API hosts; the region picks one (DESIGN §6).
HOSTS: dict[str, str] = {
    "us": "https://events.pagerduty.com",
    "eu": "https://events.eu.pagerduty.com",
}
ENQUEUE_PATH = "/v2/enqueue"
CHANGE_PATH = "/v2/change/enqueue"
ENQUEUE_URLS: dict[str, str] = {region: host + ENQUEUE_PATH for region, host in HOSTS.items()}
CHANGE_URLS: dict[str, str] = {region: host + CHANGE_PATH for region, host in HOSTS.items()}

ROUTING_KEY_LENGTH = 32
_ROUTING_KEY = re.compile(r"[A-Za-z0-9]{32}\Z")
#: Path segments a wrong URL may show: the Events API's own words.
_PATH_WORDS = r"v[0-9]|change|enqueue"
#: REST API keys are 20 characters: the usual wrong key to paste.
_REST_API_KEY_LENGTH = 20

EVENT_ACTIONS: tuple[EventAction, ...] = ("trigger", "acknowledge", "resolve")
#: Settings that fill ``payload.source``/``component``/``group``/``class``.
ATTRIBUTE_SETTINGS = ("source", "component", "group", "class")
SETTINGS = (*ATTRIBUTE_SETTINGS, "event_action", "change_event")


@attrs.frozen(kw_only=True)
class PagerDutyChannel:
    """A validated PagerDuty channel. The key stays out of ``repr`` (tracebacks, logs)."""

    routing_key: str = attrs.field(repr=False)
    region: Region = "us"
    attributes: Mapping[str, str] = attrs.field(factory=dict)
    event_action: EventAction | None = None
    change_event: bool = False

    @property
    def enqueue_url(self) -> str:
        return ENQUEUE_URLS[self.region]

    @property
    def change_url(self) -> str:
        return CHANGE_URLS[self.region]

    @property
    def post_url(self) -> str:
        """Where this channel's events go: the alert or the change endpoint."""
        return self.change_url if self.change_event else self.enqueue_url

    @property
    def display(self) -> str:
        return f"{self.post_url} (routing key {mask_value(self.routing_key)})"


def read_channel(
    url: str | None, options: Mapping[str, Any], settings: Mapping[str, Any]
) -> PagerDutyChannel:
    """Check a channel's ``routing_key``, ``region``, optional ``url`` and ``settings``.

    Raises :class:`InvalidTarget` with one line that names the expected shape.
    """
    key = _routing_key(options.get("routing_key"))
    region = _region(options.get("region"), url)
    return PagerDutyChannel(routing_key=key, region=region, **_settings(settings))


def _masked(value: str) -> str:
    """The key as it may be shown: ``****`` plus a tail only when the tail is harmless."""
    shown = mask_value(value)
    return shown if shown == MASK or shown[len(MASK) :].isalnum() else MASK


def _routing_key(value: Any) -> str:
    if value is None or value == "":
        raise InvalidTarget(
            'pagerduty channel needs routing_key = "<32-character integration key>" in its '
            "[channels.<name>] table (PagerDuty: Service → Integrations → Events API V2), "
            "or `notify send --url …/v2/enqueue --option routing_key=…`",
            key="routing_key",
        )
    if not isinstance(value, str):
        raise InvalidTarget(
            "pagerduty routing_key must be a string of 32 letters or digits "
            f"(got {type(value).__name__})",
            key="routing_key",
        )
    if _ROUTING_KEY.match(value):
        return value
    if value != value.strip() and _ROUTING_KEY.match(value.strip()):
        detail = "it has spaces or a line break around it"
    elif len(value) == ROUTING_KEY_LENGTH:
        detail = "got 32 characters, not all letters or digits"
    else:
        detail = f"got {len(value)} characters"
        if len(value) == _REST_API_KEY_LENGTH:
            detail += "; that looks like a REST API key, not an integration key"
    raise InvalidTarget(
        f"pagerduty routing_key {_masked(value)} must be 32 letters or digits, the "
        f"integration key of an Events API V2 integration ({detail})",
        key="routing_key",
    )


def _region(value: Any, url: str | None) -> Region:
    region: Region | None = None
    if value is not None:
        if not isinstance(value, str) or value.strip().lower() not in HOSTS:
            shown = truncate(str(value), 40)
            raise InvalidTarget(
                f'pagerduty region must be "us" or "eu", not {shown!r}', key="region"
            )
        region = "eu" if value.strip().lower() == "eu" else "us"
    if not url:
        return region or "us"
    by_url: dict[str, Region] = {ENQUEUE_URLS["us"]: "us", ENQUEUE_URLS["eu"]: "eu"}
    from_url = by_url.get(url.rstrip("/"))
    if from_url is None:
        shown = masked_url(url, keep=_PATH_WORDS)
        hint = (
            "; for change events keep the enqueue url and set settings.change_event = true"
            if url.rstrip("/") in CHANGE_URLS.values()
            else ""
        )
        raise InvalidTarget(
            f"pagerduty url must be {ENQUEUE_URLS['us']} or {ENQUEUE_URLS['eu']} "
            f"(or leave it out and set region), not {shown}{hint}"
        )
    if region is not None and region != from_url:
        raise InvalidTarget(
            f"pagerduty url is the {from_url} endpoint but region = {region!r}; keep one of them"
        )
    return from_url


def _settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    read = SettingsReader("pagerduty", settings, SETTINGS)
    attributes = {
        name: value for name in ATTRIBUTE_SETTINGS if (value := read.text(name)) is not None
    }
    action = read.choice("event_action", EVENT_ACTIONS)
    change = read.flag("change_event", False)
    if change and action is not None:
        raise read.error(
            "event_action",
            "does not apply with settings.change_event = true "
            "(change events are never acknowledged or resolved)",
        )
    return {"attributes": attributes, "event_action": action, "change_event": change}
