"""Property tests: whatever comes in, the answer is a result or notify's own error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notify_core import Channel, Message, NotifyError, Providers
from notify_core._cli._send import parse_action, parse_pair

PROVIDERS = Providers.discover()
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

urls = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda host, path: f"https://{host}/{path}", st.text(max_size=20), st.text(max_size=40)
    ),
    st.sampled_from(
        [
            "https://hooks.slack.com/services/T0/B0/x",
            "https://discord.com/api/webhooks/1/x",
            "https://prod-00.westeurope.logic.azure.com:443/workflows/x/triggers/manual/paths/invoke",
            "http://[::1",
            "https://a:b@/",
            "https://x:99999/",
            "",
        ]
    ),
)


@FUZZ
@given(st.text(max_size=40))
def test_field_parsing_gives_a_pair_or_a_clear_error(value):
    try:
        key, rest = parse_pair(value, "--field", "KEY=VALUE")
    except NotifyError as exc:
        assert "--field" in str(exc)
    else:
        raw_key, _, raw_rest = value.partition("=")
        assert key == raw_key.strip() != ""
        assert rest == raw_rest


@FUZZ
@given(st.text(max_size=60))
def test_action_parsing_gives_an_action_or_a_clear_error(value):
    try:
        action = parse_action(value)
    except NotifyError as exc:
        assert "--action" in str(exc)
    else:
        assert action.url.startswith(("http://", "https://"))


@pytest.mark.parametrize("provider", sorted(PROVIDERS.installed))
@FUZZ
@given(
    url=urls,
    settings_=st.dictionaries(
        st.sampled_from(["method", "secret", "rich", "x"]),
        st.one_of(st.text(max_size=10), st.booleans()),
        max_size=2,
    ),
)
def test_url_validators_accept_or_raise_their_own_error(provider, url, settings_):
    channel = Channel(
        name="c", provider=provider, url=url, settings=settings_, options={"routing_key": url[:32]}
    )
    try:
        target = PROVIDERS.validate(channel)
    except NotifyError as exc:
        message = str(exc)
        assert message
        assert "\n" not in message
    else:
        assert target.url


@pytest.mark.parametrize("provider", sorted(PROVIDERS.installed))
@FUZZ
@given(
    title=st.text(max_size=300),
    body=st.text(max_size=3000),
    fields=st.dictionaries(st.text(max_size=30), st.text(max_size=200), max_size=40),
    severity=st.sampled_from(["info", "warning", "error", "critical"]),
    state=st.sampled_from(["trigger", "acknowledge", "resolve"]),
)
def test_payload_builders_never_crash(provider, title, body, fields, severity, state):
    examples = {
        "slack": "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "teams": "https://prod-00.westeurope.logic.azure.com:443/workflows/abc/triggers/"
        "manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers&sv=1.0&sig=S1G",
        "discord": "https://discord.com/api/webhooks/123456/TOKENtoken123",
        "mattermost": "https://chat.example.com/hooks/abcdefghijklmnop",
    }
    channel = Channel(
        name="c",
        provider=provider,
        url=examples.get(provider, "https://example.com/hook"),
        options={"routing_key": "R" * 32},
    )
    message = Message(title=title, body=body, fields=fields, severity=severity, state=state)
    try:
        payload = PROVIDERS.build(channel, message, "d1")
    except NotifyError as exc:
        assert str(exc)
    else:
        payload.content()  # serialisable
