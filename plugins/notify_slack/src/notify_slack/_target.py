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

import attrs

from notify_core.plugin import MASK, InvalidTarget, Target, masked_url

from ._settings import Settings

Kind = Literal["incoming", "trigger"]

_SECRET = r"(?P<secret>[A-Za-z0-9]{8,})"
_INCOMING = re.compile(
    r"https://hooks\.slack\.com/services/(?P<team>[TE][A-Z0-9]+)/(?P<hook>B[A-Z0-9]+)/" + _SECRET
)
_TRIGGER = re.compile(
    r"https://hooks\.slack\.com/triggers/(?P<team>[TE][A-Z0-9]+)/(?P<hook>[A-Za-z0-9]+)/" + _SECRET
)
_KINDS: tuple[tuple[Kind, re.Pattern[str]], ...] = (("incoming", _INCOMING), ("trigger", _TRIGGER))
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


@attrs.frozen
class Hook:
    """What ``validate_url`` learnt about a channel (``Target.state``): its kind and settings."""

    kind: Kind
    settings: Settings


def validate(url: str, settings: Settings) -> Target:
    """A :class:`Target` for a well-formed Slack webhook URL, or :class:`InvalidTarget`.

    Strict on purpose: a URL that is almost right (``http://``, a trailing slash, a
    query string, a pasted space) would be sent somewhere Slack does not listen, and
    the error would only surface at the first delivery.
    """
    for kind, pattern in _KINDS:
        match = pattern.fullmatch(url)
        if match:
            display = url[: match.start("secret")] + MASK
            state = Hook(kind, settings)
            return Target(url=url, secrets=(match["secret"],), display=display, state=state)
    raise InvalidTarget(f"slack url must look like {EXPECTED}; got {masked_url(url, _ID_LIKE)}")
