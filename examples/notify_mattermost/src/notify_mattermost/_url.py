"""Which URLs are Mattermost incoming webhooks, and which part of them is the secret.

Mattermost is self-hosted (or Mattermost Cloud), so any host may serve it; an incoming
webhook is ``https://<host>[/<subpath>]/hooks/<key>``, where the key is a 26-character
Mattermost id (lowercase letters and digits) and the credential: whoever has it can
post. The host and the subpath are not secret and stay visible in the masked form.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from notify_core.plugin import InvalidTarget, Target

MASK = "****"
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
        raise InvalidTarget(f"mattermost url must look like {EXPECTED}; got {masked(url)}")
    key = match["key"]
    return Target(url=url, secrets=(key,), display=url[: match.start("key")] + MASK)


def masked(url: str) -> str:
    """A rejected URL as it may be shown: scheme, host and ``hooks`` kept, the rest hidden."""
    printable = "".join(c for c in url if c.isprintable()).strip()
    try:
        parts = urlsplit(printable)
        host = parts.hostname
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    segments = [s if s in ("", "hooks") else MASK for s in parts.path.split("/")]
    shown = f"{parts.scheme}://{host}{'/'.join(segments)}"
    return shown + (f"?{MASK}" if parts.query else "")
