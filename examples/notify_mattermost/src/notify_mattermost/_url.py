"""Which URLs are Mattermost incoming webhooks, and which part of them is the secret.

Mattermost is self-hosted (or Mattermost Cloud), so any host may serve it; an incoming
webhook is ``https://<host>[/<subpath>]/hooks/<key>``, where the key is a 26-character
Mattermost id (lowercase letters and digits) and the credential: whoever has it can
post. The host and the subpath are not secret and stay visible in the masked form.
"""

from __future__ import annotations

import re

from notify_core.plugin import MASK, InvalidTarget, Target, masked_url

_URL = re.compile(
    r"https://(?P<host>[A-Za-z0-9.-]+(?::\d{1,5})?)(?P<prefix>(?:/[^/?#\s]+)*)"
    r"/hooks/(?P<key>[a-z0-9]{26})"
)
#: ``ProviderSpec.url_patterns``: ``…/hooks/<26-character id>`` on any https host.
URL_PATTERNS = (r"https://[^/?#\s]+(?:/[^/?#\s]+)*/hooks/[a-z0-9]{26}\Z",)
EXPECTED = "https://<your-mattermost-host>/hooks/<key> (Integrations → Incoming Webhooks)"


def validate(url: str) -> Target:
    """A :class:`Target` for a well-formed incoming-webhook URL, or :class:`InvalidTarget`."""
    match = _URL.fullmatch(url)
    if match is None:
        shown = masked_url(url, keep="hooks")  # the host is not secret, any path may be
        raise InvalidTarget(f"mattermost url must look like {EXPECTED}; got {shown}")
    key = match["key"]
    return Target(url=url, secrets=(key,), display=url[: match.start("key")] + MASK)
