"""notify-slack URL validation: accepted shapes, masked secrets, strict rejections."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import notify_slack
from notify_core import Channel, InvalidTarget, Providers

SECRET = "XXXXSECRETXXXXXXXXXXXX"
URL = f"https://hooks.slack.com/services/T000/B000/{SECRET}"
TRIGGER_SECRET = "c6e6c0d868b3054ca0f4611a5dbadaf0"
TRIGGER = f"https://hooks.slack.com/triggers/T0123456789/3141592653589/{TRIGGER_SECRET}"


def providers() -> Providers:
    p = Providers()
    p.register(notify_slack, name="slack")
    return p


def validate(url: str) -> object:
    return providers().validate(Channel(name="c", provider="slack", url=url))


def test_incoming_webhook_secret_is_the_last_segment() -> None:
    target = providers().validate(Channel(name="c", provider="slack", url=URL))
    assert target.url == URL
    assert target.secrets == (SECRET,)
    assert target.display == "https://hooks.slack.com/services/T000/B000/****"


def test_workflow_trigger_is_accepted() -> None:
    target = providers().validate(Channel(name="c", provider="slack", url=TRIGGER))
    assert target.secrets == (TRIGGER_SECRET,)
    assert target.display == "https://hooks.slack.com/triggers/T0123456789/3141592653589/****"


def test_masker_hides_the_secret_everywhere() -> None:
    p = providers()
    ch = Channel(name="c", provider="slack", url=URL)
    masker = p.masker(ch, p.validate(ch))
    assert SECRET not in masker.text(f"posting to {URL} failed")


def test_provider_is_inferred_from_slack_urls() -> None:
    p = providers()
    assert p.infer(URL) == "slack"
    assert p.infer(TRIGGER) == "slack"
    with pytest.raises(InvalidTarget):
        p.infer("https://example.com/services/T000/B000/x")


def test_spec_defaults() -> None:
    spec = providers().spec("slack")
    assert (spec.default_rate.per_second, spec.default_rate.burst) == (1.0, 3)
    assert (spec.default_retry.attempts, spec.default_retry.backoff) == (5, 1.0)
    assert spec.default_retry.max_delay == 300
    assert spec.capabilities == {"rich", "mentions", "threads", "actions", "fields"}
    assert spec.limits["blocks"] == 50
    assert spec.limits["button_url"] == 3000


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            f"http://hooks.slack.com/services/T000/B000/{SECRET}",
            "http://hooks.slack.com/services/T000/B000/****",
        ),
        (f"https://hooks.slack.com/services/T000/B000/{SECRET}/", "/B000/****/"),
        (f"https://hooks.slack.com/services/T000/B000/{SECRET}?x=1", "/****?****"),
        (
            f"https://hooks.slack.com/services/T000/{SECRET}",
            "https://hooks.slack.com/services/T000/****",
        ),
        (f"https://hooks.slack.com.evil.io/services/T000/B000/{SECRET}", "hooks.slack.com.evil.io"),
        (
            f"https://user:{SECRET}@hooks.slack.com/services/T000/B000/{SECRET}",
            "https://hooks.slack.com/",
        ),
        (f" https://hooks.slack.com/services/T000/B000/{SECRET}", "/B000/****"),
        (
            f"https://hooks.slack.com/workflows/T000/A000/123/{SECRET}",
            "/workflows/T000/A000/123/****",
        ),
        ("https://hooks.slack.com/services/T000/B000/short", "/B000/****"),
        ("not a url", "****"),
    ],
)
def test_wrong_urls_are_rejected_with_the_shape_and_no_secret(url: str, shown: str) -> None:
    with pytest.raises(InvalidTarget) as info:
        validate(url)
    message = str(info.value)
    assert "https://hooks.slack.com/services/T…/B…/****" in message
    assert "https://hooks.slack.com/triggers/T…/<id>/****" in message
    assert shown in message
    assert SECRET not in message
    assert "\n" not in message


@given(
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        min_size=8,
        max_size=40,
    )
)
def test_rejections_never_show_a_secret(secret: str) -> None:
    for url in (
        f"https://hooks.slack.com/services/T000/B000/{secret}/extra",
        f"https://hooks.slack.com/other/{secret}",
        f"https://example.com/hook/{secret}?token={secret}",
    ):
        with pytest.raises(InvalidTarget) as info:
            validate(url)
        shown = str(info.value).split("; got ", 1)[1]
        # Slack-id-looking segments are shown on purpose; real secrets never look like one.
        if not re.fullmatch(r"[TEBA][A-Z0-9]{0,11}|[0-9]{1,16}|services|triggers", secret):
            assert secret not in shown
