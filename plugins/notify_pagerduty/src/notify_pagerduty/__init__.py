"""The PagerDuty provider: Events API v2 alerts (trigger, acknowledge, resolve) and changes.

A PagerDuty channel is a routing key (plus a region), not a URL: the key is a
top-level channel key in TOML, a secret the core masks everywhere. The core's HTTP
``send`` posts the event; this plugin validates the key, builds the event (pure) and
reads PagerDuty's answers (the returned ``dedup_key`` is stored with the delivery).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from notify_core.plugin import (
    Channel,
    Message,
    Outcome,
    Payload,
    ProviderSpec,
    Rate,
    RetryPolicy,
    Target,
    hookimpl,
)

from ._answer import RATE_LIMITED_PAUSE, classify
from ._channel import (
    CHANGE_URLS,
    ENQUEUE_URLS,
    ROUTING_KEY_LENGTH,
    PagerDutyChannel,
    read_channel,
)
from ._event import (
    DEDUP_KEY_LIMIT,
    EVENT_BYTES_LIMIT,
    SUMMARY_LIMIT,
    alert_event,
    change_event,
    dedup_key,
)

if TYPE_CHECKING:  # httpx is loaded by the core only when something is sent
    import httpx

__all__ = [
    "CHANGE_URLS",
    "DEDUP_KEY_LIMIT",
    "ENQUEUE_URLS",
    "EVENT_BYTES_LIMIT",
    "NAME",
    "RATE_LIMITED_PAUSE",
    "SPEC",
    "SUMMARY_LIMIT",
    "build_payload",
    "classify_response",
    "dedup_key",
    "register_providers",
    "validate_url",
]

NAME = "pagerduty"

SPEC = ProviderSpec(
    name=NAME,
    description="PagerDuty Events API v2: alerts that trigger, acknowledge and resolve; changes",
    # PagerDuty allows about 120 events a minute per routing key, counted over the last
    # 60 s: 2/s sustained is that rate. A burst of 4 lets a trigger and its resolve, or
    # a few alerts raised together, leave at once instead of 0.5 s apart; at most 4
    # extra events a minute stay within "about 120", and a 429 is retried anyway.
    default_rate=Rate(per_second=2.0, burst=4),
    default_retry=RetryPolicy(attempts=6, backoff=1.0, max_delay=300),
    # Only so that `notify send --url <endpoint>` says "configure a routing_key"
    # instead of "cannot tell which provider": the key never travels in a URL.
    url_patterns=(r"https://events(\.eu)?\.pagerduty\.com/v2/(change/)?enqueue/?\Z",),
    capabilities=frozenset({"resolve", "fields", "actions"}),
    channel_keys=("routing_key", "region"),
    secret_keys=("routing_key",),
    requires_url=False,
    max_payload_bytes=EVENT_BYTES_LIMIT,
    limits={
        "routing_key_chars": ROUTING_KEY_LENGTH,
        "summary_chars": SUMMARY_LIMIT,
        "dedup_key_chars": DEDUP_KEY_LIMIT,
        "event_bytes": EVENT_BYTES_LIMIT,
        "events_per_minute_per_routing_key": 120,
    },
)


@hookimpl
def register_providers() -> Sequence[ProviderSpec]:
    return [SPEC]


@hookimpl
def validate_url(channel: Channel) -> Target | None:
    """The events endpoint of the channel's region; the routing key is the secret."""
    pd = read_channel(channel.url, channel.options, channel.settings)
    return Target(url=pd.enqueue_url, secrets=(pd.routing_key,), display=pd.display, state=pd)


@hookimpl
def build_payload(message: Message, target: Target) -> Payload | None:
    """An alert event for ``/v2/enqueue``, or a change event when ``settings.change_event``."""
    pd: PagerDutyChannel = target.state
    if pd.change_event:
        return Payload(body=change_event(pd, message), url=pd.change_url)
    return Payload(body=alert_event(pd, message))


@hookimpl
def classify_response(response: httpx.Response) -> Outcome | None:
    return classify(response)
