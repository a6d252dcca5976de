"""notify-teams URLs: Workflows accepted (sig secret, masked), retired connectors explained."""

from __future__ import annotations

import pytest

import notify_teams
from notify_core import Channel, InvalidTarget, Providers, Rate, RetryPolicy

SIG = "SECRETSIGNATUREVALUE123456789"
QUERY = f"api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIG}"
LOGIC = (
    "https://prod-00.westeurope.logic.azure.com:443/workflows/abc123/triggers/manual/paths/invoke?"
    + QUERY
)
POWER = (
    "https://default0f1e2d3c4b5a69788796a5b4c3d2e1f.0f.environment.api.powerplatform.com:443"
    "/powerautomate/automations/direct/workflows/5b6c7d8e9f0a4b1c8d2e3f4a5b6c7d8e/triggers/"
    f"manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIG}"
)


def providers() -> Providers:
    registry = Providers()
    registry.register(notify_teams, name="teams")
    return registry


def validate(url: str) -> object:
    return providers().validate(Channel(name="t", provider="teams", url=url))


@pytest.mark.parametrize(
    "url",
    [
        LOGIC,
        LOGIC.replace(":443", ""),
        POWER,
        POWER.replace(":443", ""),
        LOGIC.replace("/workflows/", "/powerautomate/automations/direct/workflows/"),
        LOGIC.replace("https://prod-00.westeurope", "HTTPS://Prod-00.WestEurope"),
    ],
)
def test_workflows_urls_are_accepted_with_the_sig_as_secret(url: str) -> None:
    registry = providers()
    channel = Channel(name="t", provider="teams", url=url)
    target = registry.validate(channel)
    assert target.url == url
    assert SIG in target.secrets
    assert SIG not in target.display
    assert target.display.endswith("&sig=****6789")
    assert registry.display(channel, target) == target.display
    assert registry.masker(channel, target).text(f"echo {SIG}") == "echo ****6789"
    assert registry.infer(url) == "teams"


def test_an_escaped_sig_is_secret_in_both_forms() -> None:
    target = validate(LOGIC.replace(SIG, "abc%2Bdef%2Fghi123"))
    assert {"abc%2Bdef%2Fghi123", "abc+def/ghi123"} <= set(target.secrets)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "url",
    [
        "https://outlook.office.com/webhook/0a1b2c3d-e4f5@0a1b2c3d-e4f5/IncomingWebhook/abc/def",
        "https://outlook.office365.com/webhook/0a1b2c3d/IncomingWebhook/abc/def",
        "https://contoso.webhook.office.com/webhookb2/0a1b2c3d@0a1b2c3d/IncomingWebhook/"
        "a1b2c3d4e5f6a7b8c9d0/0a1b2c3d-secret",
    ],
)
def test_retired_connector_urls_explain_the_replacement(url: str) -> None:
    assert providers().infer(url) == "teams", "inferred, so the user gets the explanation"
    with pytest.raises(InvalidTarget) as caught:
        validate(url)
    text = str(caught.value)
    assert "\n" not in text
    assert "retired" in text
    assert "Workflows" in text
    assert '"Post to a channel when a webhook request is received"' in text
    assert "0a1b2c3d-secret" not in text and "IncomingWebhook" not in text


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://example.com/hook", "got host 'example.com'"),
        (
            "http://prod-00.westeurope.logic.azure.com/workflows/a/triggers/manual/paths/invoke"
            f"?api-version=1&sig={SIG}",
            "scheme must be https",
        ),
        (LOGIC.replace(":443", ":8443"), "port must be 443"),
        (LOGIC.replace("/paths/invoke", "/paths/run"), "the path is not"),
        (LOGIC.replace("api-version=2016-06-01&", ""), "no api-version="),
        (LOGIC.replace(f"&sig={SIG}", ""), "no sig=: set the trigger's \"Who can trigger"),
        (LOGIC.replace(f"sig={SIG}", "sig="), "no sig="),
        (
            "https://evil.logic.azure.com.example.net/workflows/a/triggers/m/paths/invoke"
            f"?api-version=1&sig={SIG}",
            "got host",
        ),
        ("not a url at all", "scheme must be https, got none"),
        ("https://[::1/x", "not a valid URL"),
    ],
)
def test_anything_else_names_the_expected_shape_without_the_secret(url: str, problem: str) -> None:
    with pytest.raises(InvalidTarget) as caught:
        validate(url)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith("teams url must be a Power Automate Workflows URL: https://<region>")
    assert "sig=****" in text
    assert problem in text
    assert SIG not in text


def test_urls_of_other_services_are_not_inferred_as_teams() -> None:
    spec = notify_teams.SPEC
    for url in (
        "https://hooks.slack.com/services/T000/B000/XXXX",
        "https://example.com/workflows/a/triggers/manual/paths/invoke?sig=x",
        "https://logic.azure.com.evil.example/workflows/a/triggers/manual/paths/invoke",
    ):
        assert not spec.recognizes(url), url


def test_provider_spec_defaults() -> None:
    spec = providers().spec("teams")
    assert spec.default_rate == Rate(per_second=4, burst=4)
    assert spec.default_retry == RetryPolicy(attempts=5, backoff=1.0, max_delay=300)
    assert spec.capabilities == {"rich", "mentions", "actions", "fields"}
    assert spec.max_payload_bytes == 28_000
    assert spec.limits["payload_bytes"] == 28_000
