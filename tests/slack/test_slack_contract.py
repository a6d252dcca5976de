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
