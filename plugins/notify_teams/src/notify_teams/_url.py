"""Which URLs are Teams Workflows webhooks, and which part of them is the secret.

Teams has two generations of incoming webhooks. Office 365 connector URLs
(``outlook.office.com/webhook/…``, ``<tenant>.webhook.office.com/webhookb2/…``) are
retired: they are recognised only to tell the user so, with the steps to the
replacement. The current ones are Power Automate Workflows trigger URLs, served by
Logic Apps (``*.logic.azure.com``) or by the Power Platform API
(``*.environment.api.powerplatform.com``); their ``sig`` query value is a shared access
signature, the only credential, so it is the one secret.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

from notify_core.plugin import InvalidTarget, Target, mask_value

WORKFLOW_HOSTS = (".logic.azure.com", ".environment.api.powerplatform.com")
RETIRED_HOSTS = ("outlook.office.com", "outlook.office365.com")
RETIRED_HOST_SUFFIX = ".webhook.office.com"

_SEGMENT = r"[A-Za-z0-9_.-]+"
#: Logic Apps and Power Platform both serve either path form, with or without the prefix.
_PATH = re.compile(
    rf"/(?:powerautomate/automations/direct/)?workflows/{_SEGMENT}/triggers/{_SEGMENT}"
    r"/paths/invoke/?"
)

#: For ``notify send --url`` inference (``re.match``). The retired connector URLs are
#: included on purpose: inferring "teams" for them yields the retirement explanation
#: instead of a vague "cannot tell which provider".
URL_PATTERNS = (
    r"(?i)https://[a-z0-9.-]+\.logic\.azure\.com(?::443)?"
    r"/(?:powerautomate/automations/direct/)?workflows/[^/?#]+/triggers/[^/?#]+/paths/invoke",
    r"(?i)https://[a-z0-9.-]+\.environment\.api\.powerplatform\.com(?::443)?"
    r"/(?:powerautomate/automations/direct/)?workflows/[^/?#]+/triggers/[^/?#]+/paths/invoke",
    r"(?i)https://outlook\.office(?:365)?\.com/webhook/",
    r"(?i)https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/",
)

EXPECTED = (
    "teams url must be a Power Automate Workflows URL: "
    "https://<region>.logic.azure.com:443/workflows/<id>/triggers/manual/paths/invoke"
    "?api-version=…&sp=…&sv=…&sig=**** or "
    "https://<env>.environment.api.powerplatform.com:443/powerautomate/automations/direct"
    "/workflows/<id>/triggers/manual/paths/invoke?api-version=…&sp=…&sv=…&sig=****"
)

RETIRED = (
    "teams url is an Office 365 connector URL (outlook.office.com/webhook/… or "
    "<tenant>.webhook.office.com/webhookb2/…); Microsoft retired Office 365 connectors in "
    "Teams, so create a Workflows URL instead: in the Teams channel choose ••• → Workflows → "
    '"Post to a channel when a webhook request is received", finish the steps and copy the '
    "URL it shows"
)


def _reject(problem: str) -> InvalidTarget:
    return InvalidTarget(f"{EXPECTED} ({problem})")


def is_retired(host: str) -> bool:
    return host in RETIRED_HOSTS or host.endswith(RETIRED_HOST_SUFFIX)


def validate(url: str) -> Target:
    """The target for a Workflows URL, or :class:`InvalidTarget` naming the expected shape.

    Messages show the host at most: the path and query (where the signature lives) never
    appear in an error.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise _reject("not a valid URL") from None
    host = (parts.hostname or "").lower()
    if is_retired(host):
        raise InvalidTarget(RETIRED)
    if parts.scheme.lower() != "https":
        got = repr(parts.scheme) if parts.scheme else "none"
        raise _reject(f"scheme must be https, got {got}")
    if not host.endswith(WORKFLOW_HOSTS):
        raise _reject(f"got host {host!r}")
    if port not in (None, 443):
        raise _reject(f"port must be 443 or absent, got {port}")
    if not _PATH.fullmatch(parts.path):
        raise _reject("the path is not …/workflows/<id>/triggers/<name>/paths/invoke")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if not query.get("api-version"):
        raise _reject("the query has no api-version=")
    if not query.get("sig"):
        raise _reject(
            'the query has no sig=: set the trigger\'s "Who can trigger the flow" to '
            '"Anyone" so its URL carries a signature'
        )
    return Target(url=url.strip(), secrets=_sig_secrets(parts.query), display=masked(url))


def _sig_secrets(query: str) -> tuple[str, ...]:
    """The ``sig`` value as written in the URL and decoded (they differ when escaped)."""
    found: list[str] = []
    for item in query.split("&"):
        name, _, value = item.partition("=")
        if unquote(name) == "sig" and value:
            found += [value, unquote(value)]
    return tuple(dict.fromkeys(found))


def masked(url: str) -> str:
    """``url`` with its ``sig`` value replaced by the core's masked form."""
    base, sep, query = url.strip().partition("?")
    if not sep:
        return base
    items = []
    for item in query.split("&"):
        name, eq, value = item.partition("=")
        if unquote(name) == "sig" and value:
            value = mask_value(unquote(value))
        items.append(f"{name}{eq}{value}")
    return f"{base}?{'&'.join(items)}"
