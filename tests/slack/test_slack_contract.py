"""notify-slack against the provider contract every notify plugin must pass."""

from __future__ import annotations

import notify_slack
from notify_core.testing import Answer, Example, ProviderContract

SECRET = "XXXXSECRETXXXXXXXXXXXX"
TRIGGER_SECRET = "c6e6c0d868b3054ca0f4611a5dbadaf0"


class TestSlackContract(ProviderContract):
    plugin = notify_slack
    provider = "slack"
    valid = (
        Example(f"https://hooks.slack.com/services/T000/B000/{SECRET}", secrets=(SECRET,)),
        Example(
            f"https://hooks.slack.com/triggers/T0123456789/3141592653589/{TRIGGER_SECRET}",
            secrets=(TRIGGER_SECRET,),
        ),
        Example(
            f"https://hooks.slack.com/services/T000/B000/{SECRET}",
            settings={"mention_on_failure": "here", "mention_users": ["U0123ABCD"]},
            secrets=(SECRET,),
        ),
    )
    invalid = (
        Example(f"http://hooks.slack.com/services/T000/B000/{SECRET}", secrets=(SECRET,)),
        Example(f"https://hooks.slack.com/services/T000/B000/{SECRET}/", secrets=(SECRET,)),
        Example(f"https://hooks.example.com/services/T000/B000/{SECRET}", secrets=(SECRET,)),
        Example("https://hooks.slack.com/services/T000/B000", why="no secret"),
        Example(
            f"https://hooks.slack.com/services/T000/B000/{SECRET}",
            settings={"mention_on_faillure": True},
            secrets=(SECRET,),
            key="settings.mention_on_faillure",
        ),
        Example(
            f"https://hooks.slack.com/services/T000/B000/{SECRET}",
            settings={"mention_users": ["not-an-id"]},
            secrets=(SECRET,),
            key="settings.mention_users",
        ),
    )
    client_error_answers = (
        Answer(400, "invalid_payload"),
        Answer(403, "action_prohibited"),
        Answer(404, "channel_not_found"),
        Answer(410, "channel_is_archived"),
    )
    server_error_answers = (Answer(500, "rollup_error"), Answer(503, "service unavailable"))


BOT_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"


def _web(error: str, status: int = 200, **headers: str) -> Answer:
    return Answer(status, f'{{"ok":false,"error":"{error}"}}', headers=headers)


class TestSlackBotContract(ProviderContract):
    """Bot mode (a token and a channel id, the Web API) against the same contract."""

    plugin = notify_slack
    provider = "slack"
    valid = (
        Example(options={"token": BOT_TOKEN, "channel": "C0123ABCD"}, secrets=(BOT_TOKEN,)),
        Example(f"slack://{BOT_TOKEN}@C0123ABCD", secrets=(BOT_TOKEN,)),
        Example(
            options={"token": BOT_TOKEN, "channel": "G0123ABCD"},
            settings={"thread_by": "dedup_key", "on_resolve": "both", "reply_broadcast": True},
            secrets=(BOT_TOKEN,),
        ),
    )
    invalid = (
        Example(
            options={"token": "xoxq-not-a-bot-token", "channel": "C0123ABCD"},
            secrets=("xoxq-not-a-bot-token",),
            key="token",
            why="not a bot token",
        ),
        Example(
            options={"token": BOT_TOKEN, "channel": "#alerts"},
            secrets=(BOT_TOKEN,),
            key="channel",
            why="a channel name, not an id",
        ),
        Example(
            options={"token": BOT_TOKEN}, secrets=(BOT_TOKEN,), key="channel", why="no channel"
        ),
        Example(options={"channel": "C0123ABCD"}, key="token", why="no token"),
        Example(f"slack://{BOT_TOKEN}", secrets=(BOT_TOKEN,), why="no channel in the url"),
        Example(f"slack://{BOT_TOKEN}@C0123ABCD/x", secrets=(BOT_TOKEN,), why="a path"),
        Example(
            f"https://hooks.slack.com/services/T000/B000/{SECRET}",
            options={"token": BOT_TOKEN, "channel": "C0123ABCD"},
            secrets=(SECRET, BOT_TOKEN),
            why="a webhook and a token",
        ),
        Example(
            options={"token": BOT_TOKEN, "channel": "C0123ABCD"},
            settings={"on_resolve": "edit"},
            secrets=(BOT_TOKEN,),
            key="settings.on_resolve",
        ),
        Example(
            f"https://hooks.slack.com/services/T000/B000/{SECRET}",
            settings={"thread_by": "dedup_key"},
            secrets=(SECRET,),
            key="settings.thread_by",
            why="threads need a bot token",
        ),
    )
    success_answers = (
        Answer(200, '{"ok":true,"channel":"C0123ABCD","ts":"1503435956.000247"}'),
        Answer(200, '{"ok":true,"channel":"C0123ABCD","ts":"1503435956.000248","warning":"x"}'),
    )
    client_error_answers = (
        _web("channel_not_found"),
        _web("not_in_channel"),
        _web("invalid_auth"),
        _web("token_revoked"),
        _web("account_inactive"),
        _web("invalid_blocks"),
        Answer(404, "not found"),
    )
    rate_limited = _web("ratelimited", 429, **{"Retry-After": "7"})
    rate_limited_bare = _web("ratelimited", 429)
    server_error_answers = (
        _web("fatal_error"),
        _web("internal_error"),
        Answer(500, "internal error"),
        Answer(503, "unavailable"),
    )
