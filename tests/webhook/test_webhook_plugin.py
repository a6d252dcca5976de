"""notify-webhook: validation, payloads and signing, without a network."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import httpx
import pytest
import respx
from standardwebhooks import Webhook

from notify_core import Channel, InvalidTarget, Message, PayloadError, Providers
from notify_core.plugin import SendContext

SECRET = "whsec_" + base64.b64encode(b"k" * 24).decode()
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def providers() -> Providers:
    return Providers.discover()


def channel(url: str = "https://example.com/hook", **settings: object) -> Channel:
    return Channel(name="w", provider="webhook", url=url, settings=settings)


def message(**kw: object) -> Message:
    base: dict[str, object] = dict(
        title="Done",
        body="ok",
        event="job.done",
        fields={"a": "1"},
        timestamp=WHEN,
        data={"run": 7},
    )
    base.update(kw)
    return Message(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "settings", "error"),
    [
        ("ftp://example.com/x", {}, "must look like https://host/path"),
        ("not a url", {}, "must look like"),
        ("https://example.com/x", {"method": "DELETE"}, "method must be one of"),
        ("https://example.com/x", {"secret": "plain"}, "must start with 'whsec_'"),
        ("https://example.com/x", {"secret": "whsec_***"}, "is not base64"),
        ("https://example.com/x", {"auth": {"type": "magic"}}, "bearer, basic or header"),
        (
            "https://example.com/x",
            {"auth": {"type": "basic", "username": "u"}},
            "auth.password is required",
        ),
        ("https://example.com/x", {"template": {"a": "{x.y}"}}, "only {name} placeholders"),
    ],
)
def test_invalid_channels_are_rejected_with_the_reason(providers, url, settings, error):
    with pytest.raises(InvalidTarget, match=error.replace("(", r"\(").replace("{", r"\{")):
        providers.validate(channel(url, **settings))


def test_envelope_is_the_documented_shape(providers):
    payload = providers.build(channel(), message(), "d1")
    assert payload.method == "POST"
    assert payload.body == {
        "id": "d1",
        "event": "job.done",
        "severity": "info",
        "state": "trigger",
        "timestamp": "2026-01-02T03:04:05+00:00",
        "title": "Done",
        "body": "ok",
        "fields": [{"name": "a", "value": "1"}],
        "actions": [],
        "dedup_key": "job.done:Done",
        "tags": [],
        "tenant": None,
        "data": {"run": 7},
    }


def test_template_keeps_types_and_fills_strings(providers):
    ch = channel(
        method="PATCH",
        template={"summary": "{title}: {body}", "run": "{run}", "fields": "{fields}", "static": 3},
    )
    payload = providers.build(ch, message(), "d1")
    assert payload.method == "PATCH"
    assert payload.body == {
        "summary": "Done: ok",
        "run": 7,
        "fields": [{"name": "a", "value": "1"}],
        "static": 3,
    }


def test_template_with_unknown_key_fails_the_build(providers):
    with pytest.raises(PayloadError, match="unknown template key 'nope'"):
        providers.build(channel(template="{nope}"), message(), "d1")


@pytest.mark.parametrize(
    ("auth", "header", "value"),
    [
        ({"type": "bearer", "token": "t0k"}, "Authorization", "Bearer t0k"),
        (
            {"type": "basic", "username": "u", "password": "p"},
            "Authorization",
            "Basic " + base64.b64encode(b"u:p").decode(),
        ),
        ({"type": "header", "name": "X-Api-Key", "value": "k3y"}, "X-Api-Key", "k3y"),
    ],
)
def test_auth_headers(providers, auth, header, value):
    payload = providers.build(channel(auth=auth, headers={"X-Team": "ml"}), message(), "d1")
    assert payload.headers[header] == value
    assert payload.headers["X-Team"] == "ml"


def test_auth_and_header_values_are_secrets(providers):
    ch = channel(
        auth={"type": "bearer", "token": "tok-123456"}, headers={"X-Key": "hv-98765"}, secret=SECRET
    )
    masker = providers.masker(ch, providers.validate(ch))
    text = masker.text(f"tok-123456 hv-98765 {SECRET}")
    assert "tok-123456" not in text and "hv-98765" not in text and SECRET not in text


@pytest.mark.anyio
@respx.mock
async def test_signed_send_verifies_and_unsigned_has_no_signature(providers):
    route = respx.post("https://example.com/hook").mock(return_value=httpx.Response(204))
    async with httpx.AsyncClient() as client:
        for settings in ({"secret": SECRET}, {}):
            ch = channel(**settings)
            target = providers.validate(ch)
            payload = providers.build(ch, message(), "msg_1")
            outcome = await providers.send(
                ch,
                payload,
                SendContext(delivery_id="msg_1", attempt=1, timeout=5, target=target),
                client,
            )
            assert outcome.status == "delivered"
    signed, unsigned = (call.request for call in route.calls)
    verified = Webhook(SECRET).verify(signed.content, dict(signed.headers))
    assert verified["id"] == "msg_1"
    assert signed.headers["webhook-id"] == "msg_1"
    assert "webhook-signature" not in unsigned.headers
    assert json.loads(unsigned.content)["id"] == "msg_1"


def test_http_url_is_inferred_only_when_named(providers):
    with pytest.raises(InvalidTarget, match="pass --provider"):
        providers.infer("https://example.com/hook")


def test_a_misspelt_setting_is_refused_not_ignored(providers):
    """``mehtod = "PUT"`` used to be accepted silently: the request went out as POST."""
    with pytest.raises(InvalidTarget) as info:
        providers.validate(channel(mehtod="PUT"))
    assert info.value.key == "settings.mehtod"
    assert str(info.value) == (
        "webhook settings: unknown key 'mehtod': did you mean 'method'? "
        "(known: method, headers, auth, secret, template)"
    )
    with pytest.raises(InvalidTarget) as info:
        providers.validate(channel(colour="red"))
    assert "did you mean" not in str(info.value)  # no suggestion beats a wrong one


def test_notify_check_points_at_the_misspelt_line(notify_cli, tmp_path):
    (tmp_path / "notify.toml").write_text(
        '[channels.audit]\nprovider = "webhook"\nurl = "https://example.com/hook"\n'
        'settings = { mehtod = "PUT" }\n'
    )
    result = notify_cli("check")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "channels.audit.settings.mehtod: webhook settings: unknown key 'mehtod'" in (
        result.stdout + result.stderr
    )


def test_settings_are_read_once_into_the_target(providers):
    ch = channel(method="put", headers={"X-Team": "ml"}, auth={"type": "bearer", "token": "t0k3n"})
    target = providers.validate(ch)
    assert (target.state.method, dict(target.state.headers)) == (
        "PUT",
        {"X-Team": "ml", "Authorization": "Bearer t0k3n"},
    )
    assert "t0k3n" in target.secrets and "Bearer t0k3n" in target.secrets
    payload = providers.build(ch, message(), "d1", target)
    assert (payload.method, payload.headers["Authorization"]) == ("PUT", "Bearer t0k3n")


@pytest.mark.parametrize(
    ("settings", "key"),
    [({"headers": {"X-A": {"b": 1}}}, "settings.headers.X-A"), ({"auth": "x"}, "settings.auth")],
)
def test_bad_nested_settings_name_their_key(providers, settings, key):
    with pytest.raises(InvalidTarget) as info:
        providers.validate(channel(**settings))
    assert info.value.key == key
