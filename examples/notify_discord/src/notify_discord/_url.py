"""Which URLs are Discord webhooks, and which part of them is the secret.

A channel webhook URL is ``https://discord.com/api/webhooks/<id>/<token>`` (also on
``discordapp.com``, the ``ptb.``/``canary.`` client hosts, and with an API version,
``/api/v10/webhooks/…``). The id is a snowflake, shown in Discord's UI; the token is
the credential (whoever has it can post), so it is the one secret. Two query
parameters are meaningful: ``wait=true`` (Discord answers 200 with the message instead
of 204) and ``thread_id`` (post into a thread of a forum or text channel).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from notify_core.plugin import MASK, InvalidTarget, Target, masked_url

_URL = re.compile(
    r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api(?:/v\d{1,2})?/webhooks/"
    r"(?P<id>\d{15,25})/(?P<token>[A-Za-z0-9_-]{20,100})(?:\?(?P<query>[^#]*))?"
)
#: ``ProviderSpec.url_patterns``: enough to infer "discord" for ``notify send --url``.
URL_PATTERNS = (r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api(?:/v\d{1,2})?/webhooks/",)
EXPECTED = "https://discord.com/api/webhooks/<id>/<token> (Channel settings → Integrations)"
QUERY_KEYS = ("wait", "thread_id")
#: Path segments a wrong URL may show: Discord's words and ids (never the token).
_SHOWN = re.compile(r"api|webhooks|v\d{1,2}|\d{1,25}")


def validate(url: str) -> Target:
    """A :class:`Target` for a well-formed webhook URL, or :class:`InvalidTarget`."""
    match = _URL.fullmatch(url)
    if match is None:
        shown = masked_url(url, keep=_SHOWN)
        raise InvalidTarget(f"discord url must look like {EXPECTED}; got {shown}")
    for key, value in parse_qsl(match["query"] or "", keep_blank_values=True):
        if key not in QUERY_KEYS:
            raise InvalidTarget(
                f"discord url: unknown query parameter {key!r} (known: {', '.join(QUERY_KEYS)})"
            )
        if key == "wait" and value not in ("true", "false"):
            raise InvalidTarget("discord url: wait must be true or false")
        if key == "thread_id" and not value.isdigit():
            raise InvalidTarget("discord url: thread_id must be a thread's numeric id")
    token = match["token"]
    display = url[: match.start("token")] + MASK + url[match.end("token") :]
    return Target(url=url, secrets=(token,), display=display)


def with_thread(url: str, thread_id: str) -> str:
    """``url`` posting into thread ``thread_id`` (replacing any thread it names)."""
    base, _, query = url.partition("?")
    items = [p for p in query.split("&") if p and not p.startswith("thread_id=")]
    items.append(f"thread_id={thread_id}")
    return f"{base}?{'&'.join(items)}"
