"""notify-pagerduty channel validation: the key's shape, the region, the endpoint, settings."""

from __future__ import annotations

from typing import Any

import pytest

from notify_core import Channel, InvalidTarget, Providers, adhoc_channel
from notify_pagerduty import ENQUEUE_URLS
from notify_pagerduty._channel import read_channel

ROUTING_KEY = "R0utingKeyF0rTests0nly1234567abc"


def channel(
    url: str | None = None, settings: dict[str, Any] | None = None, **options: Any
) -> Channel:
    options.setdefault("routing_key", ROUTING_KEY)
    return Channel(
        name="oncall", provider="pagerduty", url=url, options=options, settings=settings or {}
    )


@pytest.mark.parametrize(
    ("ch", "expected_url"),
    [
        (channel(), ENQUEUE_URLS["us"]),
        (channel(region="eu"), ENQUEUE_URLS["eu"]),
        (channel(region="EU"), ENQUEUE_URLS["eu"]),
        (channel(url="https://events.pagerduty.com/v2/enqueue"), ENQUEUE_URLS["us"]),
        (channel(url="https://events.eu.pagerduty.com/v2/enqueue/"), ENQUEUE_URLS["eu"]),
        (
            channel(url="https://events.eu.pagerduty.com/v2/enqueue", region="eu"),
            ENQUEUE_URLS["eu"],
        ),
    ],
)
def test_valid_channels_target_their_regions_endpoint(
    providers: Providers, ch: Channel, expected_url: str
) -> None:
    target = providers.validate(ch)
    assert target.url == expected_url
    assert target.secrets == (ROUTING_KEY,)
    assert target.display == f"{expected_url} (routing key ****{ROUTING_KEY[-4:]})"


LONG_BAD_KEY = "A" * 31 + "-"


@pytest.mark.parametrize(
    ("ch", "expected"),
    [
        (
            channel(routing_key="abcdefghijkl"),
            "pagerduty routing_key **** must be 32 letters or digits, the integration key of "
            "an Events API V2 integration (got 12 characters)",
        ),
        (channel(routing_key=LONG_BAD_KEY), "(got 32 characters, not all letters or digits)"),
        (channel(routing_key=ROUTING_KEY + "\n"), "it has spaces or a line break around it"),
        (channel(routing_key="u+AbCdEfGhIjKlMnOpQr"), "looks like a REST API key"),
        (channel(routing_key=12345), "must be a string of 32 letters or digits (got int)"),
        (channel(routing_key=""), "needs routing_key ="),
        (channel(region="mars"), 'region must be "us" or "eu", not \'mars\''),
        (channel(url="https://events.pagerduty.com/v1/enqueue"), "pagerduty url must be"),
        (
            channel(url="https://events.pagerduty.com/v2/change/enqueue"),
            "set settings.change_event = true",
        ),
        (
            channel(url="https://events.pagerduty.com/v2/enqueue", region="eu"),
            "url is the us endpoint but region = 'eu'",
        ),
        (channel(settings={"sourc": "x"}), "settings: unknown key 'sourc': did you mean 'source'?"),
        (channel(settings={"source": ""}), "settings.source must be a non-empty string"),
        (channel(settings={"group": 3}), "settings.group must be a non-empty string"),
        (channel(settings={"event_action": "close"}), "event_action must be one of trigger,"),
        (channel(settings={"change_event": "yes"}), "change_event must be true or false"),
        (
            channel(settings={"change_event": True, "event_action": "resolve"}),
            "event_action does not apply with settings.change_event",
        ),
    ],
)
def test_invalid_channels_fail_with_one_masked_line(
    providers: Providers, ch: Channel, expected: str
) -> None:
    with pytest.raises(InvalidTarget) as caught:
        providers.validate(ch)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    key = ch.options.get("routing_key")
    if isinstance(key, str) and len(key) > 4:
        assert key.strip() not in message


def test_a_key_in_a_wrong_url_is_masked(providers: Providers) -> None:
    url = f"https://events.pagerduty.com/v2/enqueue?routing_key={ROUTING_KEY}"
    with pytest.raises(InvalidTarget) as caught:
        providers.validate(channel(url=url))
    assert ROUTING_KEY not in str(caught.value)


def test_the_key_stays_out_of_repr() -> None:
    pd = read_channel(None, {"routing_key": ROUTING_KEY}, {})
    assert ROUTING_KEY not in repr(pd)


def test_the_endpoint_is_recognised_only_to_ask_for_a_routing_key(providers: Providers) -> None:
    for url in (ENQUEUE_URLS["us"], ENQUEUE_URLS["eu"]):
        assert providers.infer(url) == "pagerduty"
    with pytest.raises(InvalidTarget, match=r"needs routing_key .* --option routing_key="):
        providers.validate(adhoc_channel(ENQUEUE_URLS["us"], "pagerduty"))


def test_declared_keys_are_the_toml_channel_keys(providers: Providers) -> None:
    spec = providers.spec("pagerduty")
    assert spec.channel_keys == ("routing_key", "region")
    assert spec.secret_keys == ("routing_key",)
    assert not spec.requires_url
    assert spec.max_payload_bytes == 512 * 1024
    assert (spec.default_rate.per_second, spec.default_rate.burst) == (2.0, 4)
    retry = spec.default_retry
    assert (retry.attempts, retry.backoff, retry.max_delay) == (6, 1.0, 300)
    assert spec.capabilities == frozenset({"resolve", "fields", "actions"})
