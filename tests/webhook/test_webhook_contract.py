"""notify-webhook against the provider contract every notify plugin must pass."""

from __future__ import annotations

import base64

import notify_webhook
from notify_core.testing import Example, ProviderContract

TOKEN = "bearer-t0ken-for-tests-only-123456"
SIGNING = "whsec_" + base64.b64encode(b"signing-key-for-tests-0123").decode()
PASSWORD = "hunter2-but-longer-0987"


class TestWebhookContract(ProviderContract):
    plugin = notify_webhook
    provider = "webhook"
    valid = (
        "https://example.com/hooks/notify",
        Example(
            "https://example.com/hooks/notify",
            settings={"auth": {"type": "bearer", "token": TOKEN}},
            secrets=(TOKEN,),
        ),
        Example(
            "https://example.com/hooks/notify",
            settings={"secret": SIGNING, "method": "PUT"},
            secrets=(SIGNING,),
        ),
        Example(
            "https://example.com/hooks/notify",
            settings={"auth": {"type": "basic", "username": "u", "password": PASSWORD}},
            secrets=(PASSWORD,),
        ),
        Example(
            "https://example.com/hooks/notify",
            settings={"template": {"text": "{title}", "run": "{run}"}},
        ),
    )
    invalid = (
        Example("ftp://example.com/x", why="not http(s)"),
        Example("not a url", why="no scheme"),
        Example("https://example.com/x", settings={"method": "DELETE"}, key="settings.method"),
        Example("https://example.com/x", settings={"mehtod": "PUT"}, key="settings.mehtod"),
        Example("https://example.com/x", settings={"secret": "plain"}, key="settings.secret"),
        Example(
            "https://example.com/x",
            settings={"auth": {"type": "basic", "username": "u"}},
            key="settings.auth.password",
        ),
        Example(
            "https://example.com/x",
            settings={"template": {"a": "{x.y}"}},
            key="settings.template",
        ),
    )
