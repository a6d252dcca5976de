"""Which URLs are Slack's, and which part of them is the secret.

Slack gives two kinds of webhook URL, both on ``hooks.slack.com``:

* incoming webhooks (a Slack app's "Incoming Webhooks" feature)
  ``https://hooks.slack.com/services/T…/B…/<secret>``: Block Kit messages;
* Workflow Builder webhook triggers
  ``https://hooks.slack.com/triggers/T…/<trigger id>/<secret>``: start a workflow with
  flat, string-valued variables.

In both, the last path segment is the credential: whoever has it can post. The team
and hook ids are not secret (Slack shows them in its UI and logs), so the masked form
keeps them: it tells the user *which* webhook a delivery went to.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from notify_core.plugin import InvalidTarget, Target

Kind = Literal["incoming", "trigger"]

MASK = "****"
_SECRET = r"(?P<secret>[A-Za-z0-9]{8,})"
_INCOMING = re.compile(
    r"https://hooks\.slack\.com/services/(?P<team>[TE][A-Z0-9]+)/(?P<hook>B[A-Z0-9]+)/" + _SECRET
)
_TRIGGER = re.compile(
    r"https://hooks\.slack\.com/triggers/(?P<team>[TE][A-Z0-9]+)/(?P<hook>[A-Za-z0-9]+)/" + _SECRET
)
#: ``ProviderSpec.url_patterns``: enough to infer "slack" for ``notify send --url``;
#: the full shape is checked by :func:`validate` afterwards.
URL_PATTERNS = (r"https://hooks\.slack\.com/(?:services|triggers)/",)

EXPECTED = (
    "https://hooks.slack.com/services/T…/B…/**** (incoming webhook) or "
    "https://hooks.slack.com/triggers/T…/<id>/**** (workflow trigger)"
)
#: Segments shown as is in an error: Slack ids (T…, E…, B…, A…), numeric trigger ids,
#: and the path words. Anything else, secrets included, is masked.
_ID_LIKE = re.compile(r"[TEBA][A-Z0-9]{0,11}|[0-9]{1,16}|services|triggers|workflows")


def kind_of(url: str) -> Kind:
    """``incoming`` or ``trigger`` for a URL that passed :func:`validate`."""
    return "trigger" if _TRIGGER.fullmatch(url) else "incoming"


def validate(url: str) -> Target:
    """A :class:`Target` for a well-formed Slack webhook URL, or :class:`InvalidTarget`.

    Strict on purpose: a URL that is almost right (``http://``, a trailing slash, a
    query string, a pasted space) would be sent somewhere Slack does not listen, and
    the error would only surface at the first delivery.
    """
    for pattern in (_INCOMING, _TRIGGER):
        match = pattern.fullmatch(url)
        if match:
            secret = match["secret"]
            display = url[: match.start("secret")] + MASK
            return Target(url=url, secrets=(secret,), display=display)
    raise InvalidTarget(f"slack url must look like {EXPECTED}; got {masked(url)}")


def masked(url: str) -> str:
    """A rejected URL as it may be shown: ids kept, anything that could be a secret hidden.

    The input is by definition not a shape we understand, so this keeps only path
    segments that look like Slack ids or known words and masks everything else
    (credentials, query, fragment); control characters are dropped so the error stays
    one line.
    """
    printable = "".join(c for c in url if c.isprintable())
    try:
        parts = urlsplit(printable.strip())
    except ValueError:
        return MASK
    if not parts.scheme or not parts.hostname:
        return MASK
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname + (f":{port}" if port is not None else "")
    segments = [s if not s or _ID_LIKE.fullmatch(s) else MASK for s in parts.path.split("/")]
    shown = f"{parts.scheme}://{host}{'/'.join(segments)}"
    if parts.query:
        shown += "?" + MASK
    if parts.fragment:
        shown += "#" + MASK
    return shown
