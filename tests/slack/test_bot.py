"""notify-slack's bot mode, piece by piece: the target, thread keys, payloads, answers.

The end-to-end behaviour (processes, the store, a fake Web API) is in ``test_bot_e2e.py``
and ``test_bot_threads.py``; this file pins down each decision in isolation.
Regenerate the golden files with ``NOTIFY_UPDATE_GOLDEN=1 pytest tests/slack``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from slack_sdk.models.attachments import BlockAttachment
from slack_sdk.models.blocks import Block

import notify_slack
from notify_core import Action, Channel, InvalidTarget, Message, Providers
from notify_core._job import destination_key
from notify_core.plugin import Outcome, Payload, SendContext
from notify_core.testing import check_golden as kit_check_golden

GOLDEN = Path(__file__).parent / "golden"
TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
OTHER_TOKEN = "xoxb-2222222222-3333333333-ZyXwVuTsRqPoNmLkJiHgFeDc"
PARENT = {"channel": "C0123ABCD", "ts": "1767323046.000001"}


def providers() -> Providers:
    p = Providers()
    p.register(notify_slack, name="slack")
    return p


def bot(
    channel: str = "C0123ABCD", token: str = TOKEN, name: str = "ml-bot", **settings: Any
) -> Channel:
    return Channel(
        name=name,
        provider="slack",
        options={"token": token, "channel": channel},
        settings=settings,
    )


def build(message: Message, ch: Channel | None = None, thread: Any = None) -> Payload:
    p = providers()
    ch = ch or bot()
    return p.build(ch, message, "d-1", p.validate(ch), thread)


def calls(payload: Payload) -> list[tuple[str, dict[str, Any]]]:
    return [(c["method"], c["args"]) for c in payload.body["calls"]]


def assert_slack_accepts(args: dict[str, Any]) -> None:
    for raw in args["blocks"]:
        block = Block.parse(raw)
        assert block is not None
        block.validate_json()
        assert block.to_dict() == raw
    for attachment in args.get("attachments", []):
        parsed = [Block.parse(b) for b in attachment["blocks"]]
        BlockAttachment(blocks=parsed, color=attachment["color"]).validate_json()


def started() -> Message:
    return Message(
        title="Training started: exp-42",
        body="8×A100, **resnet50**",
        event="training.started",
        fields={"Experiment": "exp-42"},
        actions=[Action("View run", "https://ml.example.com/exp/42", "primary")],
        thread_id="exp-42",
        timestamp=TS,
    )


def resolved(**data: Any) -> Message:
    return Message(
        title="Training completed: exp-42",
        event="training.completed",
        state="resolve",
        thread_id="exp-42",
        data=data,
        timestamp=TS,
    )


# -- the target --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "channel",
    [bot(), Channel(name="x", provider="slack", url=f"slack://{TOKEN}@C0123ABCD", adhoc=True)],
)
def test_a_bot_target_posts_to_the_web_api_and_masks_the_token(channel: Channel) -> None:
    p = providers()
    target = p.validate(channel)
    assert target.url == "https://slack.com/api/chat.postMessage"
    assert target.destination == "C0123ABCD"
    assert p.display(channel, target) == "slack://xoxb-****@C0123ABCD"
    masker = p.masker(channel, target)
    assert TOKEN not in masker.text(f"echoed {TOKEN} back")
    assert masker.text("C0123ABCD") == "C0123ABCD"  # the channel id is not a secret


def test_a_slack_url_names_the_provider() -> None:
    assert providers().infer(f"slack://{TOKEN}@C0123ABCD") == "slack"


def test_the_pace_is_per_slack_channel_whichever_token_or_notify_channel_posts() -> None:
    p = providers()

    def destination(ch: Channel) -> str:
        return destination_key(ch, p.validate(ch))

    a = destination(bot("C0123ABCD", TOKEN, "alerts"))
    assert a == destination(bot("C0123ABCD", OTHER_TOKEN, "other-app"))
    assert a != destination(bot("C0456EFGH", TOKEN, "alerts"))
    assert TOKEN not in a


@pytest.mark.parametrize(
    ("channel", "key", "says"),
    [
        (bot(token="xoxq-nope-nope-nope"), "token", "must be a bot token like xoxb-"),
        (bot(token=TOKEN.replace("-", " ", 1)), "token", "must be a bot token"),
        (bot(channel="#alerts"), "channel", "must be a channel id like C0123ABCD"),
        (bot(channel="c0123abcd"), "channel", "must be a channel id"),
        (
            Channel(name="x", provider="slack", options={"token": TOKEN}),
            "channel",
            "needs both token and channel",
        ),
        (Channel(name="x", provider="slack", url=f"slack://{TOKEN}"), "url", "slack://xoxb-…@C"),
        (
            Channel(name="x", provider="slack", url=f"slack://{TOKEN}@C0123ABCD?thread=1"),
            "url",
            "slack url must look like",
        ),
        (
            Channel(
                name="x",
                provider="slack",
                url=f"slack://{TOKEN}@C0123ABCD",
                options={"token": TOKEN},
            ),
            "token",
            "not both",
        ),
        (Channel(name="x", provider="slack"), "url", "or a bot token and channel"),
    ],
)
def test_bad_bot_settings_are_one_line_naming_the_key(
    channel: Channel, key: str, says: str
) -> None:
    with pytest.raises(InvalidTarget) as caught:
        providers().validate(channel)
    message = str(caught.value)
    assert says in message
    assert caught.value.key == key
    assert "\n" not in message
    assert TOKEN not in message
    assert TOKEN[5:15] not in message


@pytest.mark.parametrize("key", ["thread_by", "on_resolve", "reply_broadcast", "resolve_events"])
def test_thread_settings_on_a_webhook_are_refused_not_ignored(key: str) -> None:
    value = {"thread_by": "dedup_key", "on_resolve": "update", "reply_broadcast": True}
    channel = Channel(
        name="hook",
        provider="slack",
        url="https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXXXXXXXXXX",
        settings={key: value.get(key, ["x.*"])},
    )
    with pytest.raises(InvalidTarget, match="needs a bot token") as caught:
        providers().validate(channel)
    assert caught.value.key == f"settings.{key}"


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"thread_by": "title"}, "must be one of thread_id, dedup_key, none"),
        ({"on_resolve": "edit"}, "must be one of reply, update, both"),
        ({"reply_broadcast": "yes"}, 'must be true, false or "resolve"'),
        ({"resolve_events": "training.done"}, "must be a list of strings"),
    ],
)
def test_bad_thread_settings_say_what_is_allowed(settings: dict[str, Any], error: str) -> None:
    with pytest.raises(InvalidTarget, match=error):
        providers().validate(bot(**settings))


# -- thread keys -------------------------------------------------------------------------


def key_of(message: Message, ch: Channel | None = None) -> str | None:
    p = providers()
    ch = ch or bot()
    return p.thread_key(ch, message, p.validate(ch))


def test_thread_keys_follow_thread_by() -> None:
    message = Message(title="x", thread_id="exp-42", dedup_key="disk:db-1")
    assert key_of(message) == "C0123ABCD thread_id=exp-42"
    assert key_of(message, bot(thread_by="dedup_key")) == "C0123ABCD dedup_key=disk:db-1"
    assert key_of(message, bot(thread_by="none")) is None
    # only an explicit dedup key threads: event+title would thread every "Backup done"
    assert key_of(Message(title="Backup done", event="backup"), bot(thread_by="dedup_key")) is None
    assert key_of(Message(title="x")) is None
    assert key_of(message, bot("C0456EFGH")) != key_of(message)
    webhook = Channel(
        name="hook",
        provider="slack",
        url="https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXXXXXXXXXX",
    )
    assert key_of(message, webhook) is None  # webhooks return no ts to thread under


def test_a_thread_id_that_is_a_slack_ts_is_used_as_is() -> None:
    message = Message(title="x", thread_id="1767323046.000001")
    assert key_of(message) is None
    [(method, args)] = calls(build(message))
    assert (method, args["thread_ts"]) == ("chat.postMessage", "1767323046.000001")


# -- payloads ------------------------------------------------------------------------------


def test_the_first_message_is_the_webhook_card_posted_to_the_channel() -> None:
    message = started()
    payload = build(message)
    webhook = providers().build(
        Channel(
            name="hook",
            provider="slack",
            url="https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXXXXXXXXXX",
        ),
        attrs_evolve(message, thread_id=None),
        "d-1",
    )
    [(method, args)] = calls(payload)
    assert method == "chat.postMessage"
    assert payload.url == "https://slack.com/api/chat.postMessage"
    assert payload.content_type == "application/json; charset=utf-8"
    assert args == {"channel": "C0123ABCD", **webhook.body}  # the same Block Kit
    assert "end_thread" not in payload.body
    assert TOKEN not in json.dumps(payload.body)
    assert_slack_accepts(args)


def attrs_evolve(message: Message, **changes: Any) -> Message:
    import attrs

    return attrs.evolve(message, **changes)


def test_a_follow_up_replies_in_the_thread() -> None:
    payload = build(attrs_evolve(started(), title="Epoch 10/20"), thread=PARENT)
    [(_, args)] = calls(payload)
    assert (args["channel"], args["thread_ts"]) == ("C0123ABCD", PARENT["ts"])
    assert "reply_broadcast" not in args


@pytest.mark.parametrize(
    ("setting", "progress", "resolve"),
    [(False, False, False), (True, True, True), ("resolve", False, True)],
)
def test_reply_broadcast(setting: Any, progress: bool, resolve: bool) -> None:
    ch = bot(reply_broadcast=setting)
    [(_, reply)] = calls(build(attrs_evolve(started(), title="Epoch"), ch, PARENT))
    [(_, last)] = calls(build(resolved(), ch, PARENT))
    assert reply.get("reply_broadcast", False) is progress
    assert last.get("reply_broadcast", False) is resolve


def test_a_resolve_replies_by_default_and_ends_the_thread() -> None:
    payload = build(resolved(), thread=PARENT)
    [(method, args)] = calls(payload)
    assert (method, args["thread_ts"]) == ("chat.postMessage", PARENT["ts"])
    assert args["attachments"][0]["color"] == "#2EB67D"
    assert payload.body["end_thread"] is True


def test_resolve_events_resolve_like_a_resolve_state() -> None:
    ch = bot(resolve_events=["training.completed", "hpo.*"], on_resolve="update")
    done = attrs_evolve(resolved(), state="trigger")
    assert calls(build(done, ch, PARENT))[0][0] == "chat.update"
    other = attrs_evolve(done, event="training.progress")
    assert [m for m, _ in calls(build(other, ch, PARENT))] == ["chat.postMessage"]
    hpo = attrs_evolve(done, event="hpo.campaign_complete")
    assert build(hpo, ch, PARENT).body["end_thread"] is True


def test_on_resolve_update_updates_the_first_message_and_keeps_a_fallback_reply() -> None:
    parent = build(started()).body["calls"][0]["args"]
    thread = {**PARENT, "blocks": parent["blocks"]}
    payload = build(resolved(resolved_by="alice"), bot(on_resolve="update"), thread)
    (update_method, update), (post_method, post) = calls(payload)
    assert (update_method, post_method) == ("chat.update", "chat.postMessage")
    assert payload.body["calls"][1]["fallback"] is True
    assert payload.url == "https://slack.com/api/chat.update"
    assert (update["channel"], update["ts"]) == (PARENT["channel"], PARENT["ts"])
    assert update["blocks"] == parent["blocks"]  # the first message's card, button and all
    context = [e["text"] for e in update["attachments"][0]["blocks"][0]["elements"]]
    assert context[0] == "*resolved*"
    assert context[1].startswith("<!date^1767323045^")
    assert "by alice" in context
    assert update["attachments"][0]["color"] == "#2EB67D"
    assert update["text"] == "[RESOLVED] Training completed: exp-42"
    assert post["thread_ts"] == PARENT["ts"]
    assert_slack_accepts(update)


def test_on_resolve_both_updates_then_replies() -> None:
    payload = build(resolved(), bot(on_resolve="both"), PARENT)
    assert [m for m, _ in calls(payload)] == ["chat.update", "chat.postMessage"]
    assert "fallback" not in payload.body["calls"][1]
    # no blocks kept (a plain first message): the resolve's own card replaces it
    update = calls(payload)[0][1]
    assert update["blocks"][0]["text"]["text"] == "Training completed: exp-42"


def test_a_resolve_without_a_thread_is_a_new_message() -> None:
    payload = build(resolved(), bot(on_resolve="update"))
    [(method, args)] = calls(payload)
    assert method == "chat.postMessage" and "thread_ts" not in args


def test_a_raw_override_is_posted_as_is_to_the_channel() -> None:
    message = Message(title="x", overrides={"slack": {"text": "raw"}})
    assert build(message).body == {"text": "raw"}


def check_golden(name: str, payload: Payload) -> None:
    record = {"url": payload.url, "content_type": payload.content_type, "body": payload.body}
    kit_check_golden(GOLDEN / f"{name}.json", record)


def test_golden_bot_post() -> None:
    check_golden("bot_post", build(started()))


def test_golden_bot_reply() -> None:
    check_golden("bot_reply", build(attrs_evolve(started(), title="Epoch 10/20"), thread=PARENT))


def test_golden_bot_resolve_both() -> None:
    parent = build(started()).body["calls"][0]["args"]
    thread = {**PARENT, "blocks": parent["blocks"]}
    check_golden("bot_resolve_both", build(resolved(), bot(on_resolve="both"), thread))


# -- answers -------------------------------------------------------------------------------


def exchange(
    *responses: httpx.Response, payload: Payload | None = None
) -> tuple[Outcome, list[Any]]:
    p = providers()
    ch = bot(on_resolve="update")
    target = p.validate(ch)
    payload = payload or p.build(ch, started(), "d-1", target)
    context = SendContext(delivery_id="d-1", attempt=1, timeout=5.0, target=target)

    async def go() -> Outcome:
        async with httpx.AsyncClient() as client:
            return await p.send(ch, payload, context, client)

    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(url__startswith="https://slack.com/api/").mock(side_effect=responses)
        outcome = asyncio.run(go())
        requests = [call.request for call in route.calls]
    return outcome, requests


def web(status: int = 200, **body: Any) -> httpx.Response:
    headers = {"Retry-After": "3"} if status == 429 else {}
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("response", "status", "reason", "disables"),
    [
        (web(ok=False, error="channel_not_found"), "failed", "channel_not_found", False),
        (web(ok=False, error="not_in_channel"), "failed", "not_in_channel", False),
        (web(ok=False, error="invalid_auth"), "failed", "invalid_auth", True),
        (web(ok=False, error="token_revoked"), "failed", "token_revoked", True),
        (web(ok=False, error="account_inactive"), "failed", "account_inactive", True),
        (web(ok=False, error="missing_scope"), "failed", "missing_scope", False),
        (web(ok=False, error="fatal_error"), "retry", "fatal_error", False),
        (web(ok=False, error="ratelimited"), "retry", "ratelimited", False),
        (web(429, ok=False, error="ratelimited"), "retry", "ratelimited", False),
        (web(500, ok=False, error="internal_error"), "retry", "internal_error", False),
        (httpx.Response(503, text="<html>down</html>"), "retry", "HTTP 503: down", False),
        (httpx.Response(200, text="<html>proxy</html>"), "delivered", "ok (unexpected", False),
    ],
)
def test_web_api_answers(
    response: httpx.Response, status: str, reason: str, disables: bool
) -> None:
    outcome, _ = exchange(response)
    assert (outcome.status, outcome.disables) == (status, disables)
    assert outcome.reason.startswith(reason)
    if response.status_code == 429:
        assert outcome.retry_after == 3.0


def test_a_post_carries_the_token_only_in_its_header_and_remembers_the_thread() -> None:
    outcome, [request] = exchange(web(ok=True, channel="C0123ABCD", ts="1767323046.000001"))
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert TOKEN not in request.content.decode()
    assert outcome.status == "delivered"
    assert outcome.meta == {"channel": "C0123ABCD", "ts": "1767323046.000001"}
    assert outcome.thread is not None
    assert outcome.thread["ts"] == "1767323046.000001"
    assert outcome.thread["blocks"] == json.loads(request.content)["blocks"]  # for the update


def test_a_reply_does_not_claim_the_thread() -> None:
    p = providers()
    payload = p.build(
        bot(), attrs_evolve(started(), title="Epoch"), "d-1", p.validate(bot()), PARENT
    )
    outcome, _ = exchange(
        web(ok=True, channel="C0123ABCD", ts="1767323047.000002"), payload=payload
    )
    assert outcome.thread is None
    assert outcome.meta["thread_ts"] == PARENT["ts"]


def resolve_payload(on_resolve: str) -> Payload:
    p = providers()
    ch = bot(on_resolve=on_resolve)
    return p.build(ch, resolved(), "d-1", p.validate(ch), PARENT)


def test_an_update_that_cannot_be_made_falls_back_to_a_reply() -> None:
    outcome, requests = exchange(
        web(ok=False, error="message_not_found"),
        web(ok=True, channel="C0123ABCD", ts="1767323047.000002"),
        payload=resolve_payload("update"),
    )
    assert [r.url.path for r in requests] == ["/api/chat.update", "/api/chat.postMessage"]
    assert outcome.status == "delivered" and outcome.end_thread
    assert "replied instead: the first message could not be updated: message_not_found" in (
        outcome.reason
    )


def test_a_made_update_needs_no_reply() -> None:
    outcome, requests = exchange(
        web(ok=True, channel="C0123ABCD", ts=PARENT["ts"]), payload=resolve_payload("update")
    )
    assert [r.url.path for r in requests] == ["/api/chat.update"]
    assert (outcome.status, outcome.end_thread) == ("delivered", True)


def test_a_throttled_update_is_retried_before_any_reply() -> None:
    outcome, requests = exchange(
        web(429, ok=False, error="ratelimited"), payload=resolve_payload("both")
    )
    assert [r.url.path for r in requests] == ["/api/chat.update"]
    assert (outcome.status, outcome.retry_after) == ("retry", 3.0)


def test_a_revoked_token_on_the_update_fails_the_delivery() -> None:
    outcome, requests = exchange(
        web(ok=False, error="token_revoked"), payload=resolve_payload("both")
    )
    assert len(requests) == 1
    assert (outcome.status, outcome.reason, outcome.disables) == ("failed", "token_revoked", True)
