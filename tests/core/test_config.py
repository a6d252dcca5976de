"""Configuration errors name the file and the key path; good files load fully."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notify_core import ConfigError, Providers, Severity, load_config, parse_config

GOOD = """
[notify]
db = "x.db"
wait = "10s"

[channels.ml-slack]
provider = "webhook"
url = "${HOOK_URL}"
events = ["training.*", "hpo.campaign_complete"]
min_severity = "warning"
rate = { per_second = 1, burst = 3 }
retry = { attempts = 4, backoff = 1.0, max_delay = 300 }
cooldown = "5m"
settings = { method = "PUT" }

[events."training.complete"]
title = "Training complete: {experiment}"
fields = { Accuracy = "{accuracy}" }

[tenants.acme.channels.acme-hook]
provider = "webhook"
url = "https://acme.example.com/hook"
"""


@pytest.fixture(scope="module")
def providers() -> Providers:
    return Providers.discover()


def test_a_full_config_loads(tmp_path, providers):
    path = tmp_path / "notify.toml"
    path.write_text(GOOD)
    config = load_config(path, providers, env={"HOOK_URL": "https://hooks.example.com/a"})
    [channel] = config.channels
    assert channel.url == "https://hooks.example.com/a"
    assert channel.events == ("training.*", "hpo.campaign_complete")
    assert channel.min_severity is Severity.WARNING
    assert channel.rate is not None and channel.rate.burst == 3
    assert channel.retry is not None and channel.retry.attempts == 4
    assert channel.cooldown == 300
    assert config.wait == 10
    assert config.tenants["acme"][0].key == "acme/acme-hook"
    message = config.templates["training.complete"].render({"experiment": "e7", "accuracy": 0.97})
    assert message.title == "Training complete: e7"
    assert message.fields[0].value == "0.97"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[channels.a]\nurl = 'x'", "notify.toml: channels.a.provider: missing"),
        (
            "[channels.a]\nprovider = 'webhook'\nurl='http://x'\nrate = { per_second = 'fast' }",
            "notify.toml: channels.a.rate.per_second: expected a number, got 'fast'",
        ),
        (
            "[channels.a]\nprovider = 'webhook'\nurl='http://x'\nretry = { attempts = 0 }",
            "channels.a.retry.attempts: must be at least 1",
        ),
        (
            "[channels.a]\nprovider = 'webhook'\nurl='http://x'\nevnts = ['x']",
            "channels.a.evnts: unknown key (did you mean 'events'?)",
        ),
        (
            "[channels.a]\nprovider = 'webhook'\nurl='http://x'\nmin_severity = 'meh'",
            "channels.a.min_severity: unknown severity 'meh'",
        ),
        (
            "[channels.a]\nprovider = 'webhook'\nurl='http://x'\ncooldown = 'soon'",
            "channels.a.cooldown: expected a duration",
        ),
        ("[channels.a]\nprovider = 'webhok'\nurl='http://x'", "did you mean 'webhook'?"),
        ("[events.x]\ntitle = '{a.__class__}'", "events.x: template"),
        ("[events.x]\ntitle = '{a:>99999}'", "format specs and conversions are not allowed"),
        ("[notify]\nconcurrency = 0", "notify.concurrency: must be at least 1"),
        (
            "[channels.a]\nprovider = 'webhook'\nurl = '${MISSING}'",
            "channels.a.url: environment variable MISSING is not set",
        ),
        ("[chanels.a]\nprovider = 'webhook'", "chanels: unknown key (did you mean 'channels'?)"),
        ("nonsense = = 1", "invalid TOML"),
    ],
)
def test_errors_name_file_and_key(tmp_path, providers, text, message):
    path = tmp_path / "notify.toml"
    path.write_text(text)
    problems: list[ConfigError] = []
    try:
        config = load_config(path, providers, env={}, problems=problems)
    except ConfigError as exc:  # the file or [notify] itself: nothing can be loaded
        errors = [str(exc)]
    else:  # a broken channel or template: listed, and the channel carries its problem
        errors = [str(p) for p in problems]
        broken = [c.problem for c in config.all_channels() if c.problem]
        assert all(b in errors for b in broken)
    assert any(message in e for e in errors), errors
    assert all("\n" not in e.strip() for e in errors)


def test_a_broken_channel_does_not_stop_the_load_and_keeps_its_routing(providers):
    config = parse_config(
        {
            "channels": {
                "slack": {
                    "provider": "webhook",
                    "url": "${SLACK_WEBHOOK_URL}",
                    "events": ["training.*"],
                },
                "audit": {"provider": "webhook", "url": "https://audit.example.com/n"},
            }
        },
        providers,
        env={},
    )
    broken, audit = config.channels
    assert broken.problem is not None
    assert "channels.slack.url: environment variable SLACK_WEBHOOK_URL is not set" in broken.problem
    assert broken.events == ("training.*",)
    assert audit.problem is None


def test_dollar_dollar_escapes(providers):
    config = parse_config(
        {"channels": {"a": {"provider": "webhook", "url": "http://x/$${y}"}}}, providers, env={}
    )
    assert config.channels[0].url == "http://x/${y}"


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


PROVIDERS = Providers.discover()
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["notify", "channels", "events", "tenants", "x"]), toml_values, max_size=4
    )
)
def test_any_shape_of_data_gives_config_or_config_error(data):
    try:
        parse_config(data, PROVIDERS, env={})
    except ConfigError as exc:
        assert str(exc)


@FUZZ
@given(st.dictionaries(st.text(max_size=10), toml_values, max_size=6))
def test_any_channel_table_gives_config_or_config_error(table):
    try:
        parse_config({"channels": {"c": {"provider": "webhook", **table}}}, PROVIDERS, env={})
    except ConfigError as exc:
        assert str(exc).startswith("<memory>: channels.c")
