"""notify-pagerduty against the provider contract every notify plugin must pass.

A PagerDuty destination is a routing key, not a URL: the examples set it as a channel
key (``options``), and the contract checks it is masked everywhere but the one body
key PagerDuty reads it from (``routing_key``).
"""

from __future__ import annotations

import json

import notify_pagerduty
from notify_core import Message
from notify_core.plugin import Payload
from notify_core.testing import Answer, Example, ProviderContract

KEY = "R0utingKeyF0rTests0nly1234567abc"
EU_KEY = "EUr0utingKeyF0rTests0nly1234567a"
SUCCESS = json.dumps({"status": "success", "message": "Event processed", "dedup_key": "k"})
INVALID = json.dumps(
    {"status": "invalid event", "message": "Event object is invalid", "errors": ["bad"]}
)


class TestPagerDutyContract(ProviderContract):
    plugin = notify_pagerduty
    provider = "pagerduty"
    valid = (
        Example(options={"routing_key": KEY}, secrets=(KEY,)),
        Example(options={"routing_key": EU_KEY, "region": "eu"}, secrets=(EU_KEY,)),
        Example(
            "https://events.pagerduty.com/v2/enqueue",
            options={"routing_key": KEY},
            settings={"source": "ml-platform", "component": "trainer"},
            secrets=(KEY,),
        ),
        Example(options={"routing_key": KEY}, settings={"change_event": True}, secrets=(KEY,)),
    )
    invalid = (
        Example(options={}, key="routing_key", why="no routing key"),
        Example(options={"routing_key": KEY[:20]}, key="routing_key", why="a REST API key"),
        Example(options={"routing_key": KEY[:-1] + "!"}, key="routing_key", why="not alnum"),
        Example(options={"routing_key": KEY, "region": "mars"}, key="region", secrets=(KEY,)),
        Example(
            "https://events.pagerduty.com/v1/enqueue",
            options={"routing_key": KEY},
            secrets=(KEY,),
            why="wrong endpoint",
        ),
        Example(
            options={"routing_key": KEY},
            settings={"event_action": "explode"},
            key="settings.event_action",
            secrets=(KEY,),
        ),
        Example(
            options={"routing_key": KEY},
            settings={"sauce": "x"},
            key="settings.sauce",
            secrets=(KEY,),
        ),
    )
    success_answers = (Answer(202, SUCCESS),)
    client_error_answers = (Answer(400, INVALID),)
    server_error_answers = (Answer(500, "internal"), Answer(503, "unavailable"))

    def assert_within_limits(self, payload: Payload, message: Message, label: str) -> None:
        assert len(payload.content()) <= notify_pagerduty.EVENT_BYTES_LIMIT
        event = payload.body
        assert len(event.get("dedup_key", "")) <= notify_pagerduty.DEDUP_KEY_LIMIT
        if "payload" in event:
            assert 0 < len(event["payload"]["summary"]) <= notify_pagerduty.SUMMARY_LIMIT
