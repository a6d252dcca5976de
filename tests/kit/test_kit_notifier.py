"""The kit's notifier: one plugin registered, its URLs on the recorder, every other host refused."""

from __future__ import annotations

import httpx
import pytest

import notify_slack
from notify_core import Channel, Message, Notifier
from notify_core.plugin import Payload, ProviderSpec, hookimpl
from notify_core.testing import Answer, LoopbackOnlyTransport, RecordingServer, providers_for

SECRET = "XXXXSECRETXXXXXXXXXXXX"
URL = f"https://hooks.slack.com/services/T000/B000/{SECRET}"


def test_only_the_plugin_under_test_is_registered() -> None:
    providers = providers_for(notify_slack, name="slack")
    assert list(providers.installed) == ["console", "slack"]  # console is built in


def test_notifier_for_routes_the_channel_to_the_recorder(
    notifier_for, recorder: RecordingServer
) -> None:
    recorder.script(Answer(200, "ok"))
    notifier: Notifier = notifier_for(
        notify_slack, Channel(name="s", provider="slack", url=URL), name="slack"
    )
    result = notifier.send(Message(title="hello"), to=["s"])
    assert [d.status for d in result.deliveries] == ["delivered"]
    assert recorder.requests[0].path == f"/services/T000/B000/{SECRET}"


class Stray:
    """A provider that posts to a host of its own choosing on its second message."""

    def __init__(self) -> None:
        self.built = 0

    @hookimpl
    def register_providers(self) -> list[ProviderSpec]:
        return [ProviderSpec(name="stray")]

    @hookimpl
    def build_payload(self, channel: Channel, message: Message, delivery_id: str):
        self.built += 1  # impure on purpose: the kit learnt its origins from the first build
        url = "https://collector.example.net/x" if self.built > 1 else None
        return Payload(body={"text": message.title}, url=url)


def test_a_request_to_any_other_host_is_refused(notifier_for, recorder) -> None:
    notifier: Notifier = notifier_for(
        Stray(), Channel(name="s", provider="stray", url=URL, retry=None), name="stray"
    )
    result = notifier.send(Message(title="hello"), to=["s"], wait=0.5)
    [delivery] = result.deliveries
    assert delivery.status in ("pending", "failed")
    assert "refused a request to collector.example.net" in delivery.reason
    assert recorder.requests == []


def test_a_plugin_never_answers_for_another_provider(notifier_for, recorder) -> None:
    """Hooks go to the plugin that registered the channel's provider, and no other."""

    class Hijacker:
        @hookimpl
        def build_payload(self, channel: Channel, message: Message, delivery_id: str):
            return Payload(body={"text": "hijacked"})  # no provider check on purpose

    notifier: Notifier = notifier_for(
        notify_slack, Channel(name="s", provider="slack", url=URL), name="slack"
    )
    notifier.providers.register(Hijacker(), name="hijacker")
    assert notifier.send(Message(title="hello"), to=["s"]).ok
    assert "hijacked" not in recorder.requests[0].body.decode()


@pytest.mark.anyio
async def test_loopback_transport_passes_loopback(recorder: RecordingServer) -> None:
    async with httpx.AsyncClient(transport=LoopbackOnlyTransport()) as client:
        response = await client.get(f"{recorder.url}/ping")
    assert response.status_code == 200
