"""The contract's checks for self-hosted services: URLs no pattern can infer, public values.

The plugin here is shaped like ntfy (the service a third-party author wrote a plugin for
from the guide alone): any host, a topic in the URL that is an address, not a credential,
although it looks as random as a token.
"""

from __future__ import annotations

import pytest

from notify_core.plugin import (
    Channel,
    Message,
    Outcome,
    Payload,
    ProviderSpec,
    Target,
    hookimpl,
    mask_value,
)
from notify_core.testing import (
    Answer,
    Example,
    RecordingServer,
    check_answer,
    check_valid,
    providers_for,
)

TOPIC = "alerts7f3kq9x2m4p8z1"  # random-looking: the core's URL heuristics take it for a token
HOSTED = f"https://ntfy.sh/{TOPIC}"
SELF_HOSTED = f"https://ntfy.example.com/{TOPIC}"


class Topics:
    """``https://<host>/<topic>``; posts JSON with the topic to the server's root."""

    def __init__(self, *, public: bool = True, display: str | None = None) -> None:
        self.public = public
        self.display = display

    @hookimpl
    def register_providers(self) -> list[ProviderSpec]:
        return [ProviderSpec(name="topics", url_patterns=(r"https://ntfy\.sh/",))]

    @hookimpl
    def validate_url(self, channel: Channel) -> Target:
        url = channel.url or ""
        topic = url.rsplit("/", 1)[1]
        return Target(
            url=url.rsplit("/", 1)[0] + "/",
            display=url if self.display is None else self.display,
            public=(topic,) if self.public else (),
            state=topic,
        )

    @hookimpl
    def build_payload(self, message: Message, target: Target) -> Payload:
        return Payload(body={"topic": target.state, "title": message.title})


def check(plugin: Topics, example: Example) -> Target:
    providers = providers_for(plugin, name="topics")
    channel = Channel(name="contract", provider="topics", url=example.url)
    return check_valid(providers, channel, example)


def test_a_self_hosted_url_passes_when_marked_not_inferable() -> None:
    check(Topics(), Example(HOSTED, public=(TOPIC,)))
    check(Topics(), Example(SELF_HOSTED, public=(TOPIC,), inferable=False))


def test_a_url_the_patterns_miss_fails_with_the_way_out() -> None:
    with pytest.raises(
        AssertionError, match=r"mark the example Example\(\.\.\., inferable=False\)"
    ):
        check(Topics(), Example(SELF_HOSTED))


def test_a_public_value_the_heuristics_would_mask_must_be_declared() -> None:
    """The ntfy friction: shown in the display, yet masked in the stored payload."""
    with pytest.raises(AssertionError) as info:
        check(Topics(public=False), Example(HOSTED, public=(TOPIC,)))
    assert str(info.value) == (
        f"the core masks the public value {TOPIC!r} of https://ntfy.sh/{mask_value(TOPIC)} in "
        "the stored payload and the log (its URL heuristics take it for a token): list it "
        "in Target.public"
    )


def test_a_public_value_under_a_credential_named_key_is_caught() -> None:
    class Keyed(Topics):
        @hookimpl
        def build_payload(self, target: Target) -> Payload:
            return Payload(body={"topic_key": target.state})

    with pytest.raises(AssertionError, match="under a credential-named key of the body"):
        check(Keyed(), Example(HOSTED))


def test_a_public_value_must_show_in_the_display() -> None:
    hidden = f"https://ntfy.sh/{mask_value(TOPIC)}"
    with pytest.raises(AssertionError, match=f"public value {TOPIC!r} .* is missing from the"):
        check(Topics(display=hidden), Example(HOSTED))


def test_a_value_cannot_be_both_secret_and_public() -> None:
    class Confused(Topics):
        @hookimpl
        def validate_url(self, channel: Channel) -> Target:
            return Target(url=channel.url or "", secrets=(TOPIC,), public=(TOPIC,))

    with pytest.raises(AssertionError, match="is masked as a secret"):
        check(Confused(), Example(HOSTED))


def test_the_core_keeps_a_declared_public_value_out_of_the_masker() -> None:
    providers = providers_for(Topics(), name="topics")
    channel = Channel(name="c", provider="topics", url=HOSTED)
    target = providers.validate(channel)
    assert providers.masker(channel, target).text(HOSTED) == HOSTED
    undeclared = providers_for(Topics(public=False), name="topics")
    masked = undeclared.masker(channel, undeclared.validate(channel)).text(HOSTED)
    assert TOPIC not in masked


def test_a_negative_retry_after_is_named_in_the_failure(recorder: RecordingServer) -> None:
    class Hasty(Topics):
        @hookimpl
        def classify_response(self) -> Outcome:
            return Outcome.retry("slow down", retry_after=-1.0)

    providers = providers_for(Hasty(), name="topics")
    channel = Channel(name="c", provider="topics", url=HOSTED)
    with pytest.raises(AssertionError) as info:
        check_answer(providers, channel, recorder, Answer(429, "slow down"), "retry")
    assert str(info.value) == (
        "topics read HTTP 429 'slow down' without Retry-After as retry_after=-1.0: it must be "
        "a number of seconds ≥ 0"
    )
