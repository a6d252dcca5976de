"""The in-process limiter paces requests before the provider has to say 429."""

from __future__ import annotations

import pytest

from notify_core import Rate
from notify_core._job import destination_key
from notify_core._limits_gcra import GcraLimiter
from notify_core.plugin import Channel, Message, Payload, ProviderSpec, Target, hookimpl
from notify_core.testing import FakeClock, local_notifier, providers_for


def test_burst_then_paced():
    limiter = GcraLimiter(FakeClock())
    rate = Rate(per_second=2, burst=3)
    waits = [limiter.reserve_now("d", rate) for _ in range(6)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == [0.5, 1.0, 1.5]  # waiters line up, each behind the previous


def test_idle_time_is_capped_at_burst():
    clock = FakeClock()
    limiter = GcraLimiter(clock)
    rate = Rate(per_second=10, burst=2)
    limiter.reserve_now("d", rate)
    limiter.reserve_now("d", rate)
    clock.advance(100.0)
    assert [limiter.reserve_now("d", rate) for _ in range(3)] == [0, 0, 0.1]


@pytest.mark.anyio
async def test_each_destination_has_its_own_slots():
    limiter = GcraLimiter(FakeClock())
    rate = Rate(per_second=1, burst=1)
    assert await limiter.reserve("a", rate) == 0
    assert await limiter.reserve("a", rate) == 1.0
    assert await limiter.reserve("b", rate) == 0
    await limiter.unreserve("a", rate)
    assert await limiter.reserve("a", rate) == 1.0


class BotPlugin:
    """A bot-token service: one URL for every chat, and a limit per chat (Telegram's shape)."""

    @hookimpl
    def register_providers(self) -> list[ProviderSpec]:
        return [
            ProviderSpec(name="bot", channel_keys=("chat_id",), default_rate=Rate(per_second=1))
        ]

    @hookimpl
    def validate_url(self, channel: Channel) -> Target:
        chat = str(channel.options["chat_id"])
        return Target(url=channel.url or "", destination=f"chat {chat}", state=chat)

    @hookimpl
    def build_payload(self, message: Message, target: Target) -> Payload:
        return Payload(body={"chat_id": target.state, "text": message.title})


def chats(url: str, *ids: str) -> list[Channel]:
    return [
        Channel(name=f"chat-{i}", provider="bot", url=url, options={"chat_id": chat})
        for i, chat in enumerate(ids)
    ]


def test_a_target_destination_names_what_one_bucket_paces() -> None:
    providers = providers_for(BotPlugin(), name="bot")
    a, b, again = chats("https://bot.example.com/bot123:token", "1001", "1002", "1001")
    keys = [destination_key(c, providers.validate(c)) for c in (a, b, again)]
    assert keys == ["bot chat 1001", "bot chat 1002", "bot chat 1001"]


@pytest.mark.parametrize(("ids", "paced"), [(("1001", "1002"), 0.0), (("1001", "1001"), 1.0)])
def test_two_chats_on_one_url_are_paced_apart(recorder, tmp_path, ids, paced) -> None:
    clock = FakeClock()
    channels = chats(f"{recorder.url}/bot123:token/sendMessage", *ids)
    with local_notifier(
        BotPlugin(),
        channels,
        server_url=recorder.url,
        db=tmp_path / "n.db",
        name="bot",
        clock=clock,
    ) as notifier:
        result = notifier.send(Message(title="hi"), to=[c.name for c in channels])
    assert [d.status for d in result.deliveries] == ["delivered", "delivered"]
    assert sorted(r.json()["chat_id"] for r in recorder.requests) == sorted(ids)
    # one bucket of 1/s for one chat makes the second send wait a second; two chats, none
    assert sum(clock.slept) == pytest.approx(paced)
