"""The numbers and names the provider declares, apart from the code that uses them.

``notify`` imports every installed plugin at start-up, ``notify log`` and ``notify
plugins`` included; keeping these here lets the plugin module declare its
``ProviderSpec`` without loading the parsing, MIME and SMTP code (about 15 ms).
"""

from __future__ import annotations

#: The channel keys an e-mail channel may set (``ProviderSpec.channel_keys``).
CHANNEL_KEYS = (
    "host",
    "port",
    "mode",
    "username",
    "password",
    "from",
    "to",
    "cc",
    "bcc",
    "reply_to",
    "ca_file",
)
#: RFC 5321 lets a server stop at 100 recipients per message; more would fail anyway.
RECIPIENT_LIMIT = 100

TITLE_LIMIT = 200
BODY_LIMIT = 20_000
FIELD_LIMIT = 30
FIELD_NAME_LIMIT = 100
FIELD_VALUE_LIMIT = 800
ACTION_LIMIT = 10
ACTION_LABEL_LIMIT = 80
ACTION_URL_LIMIT = 2048
TAG_LIMIT = 20
TAG_CHARS = 50
EVENT_LIMIT = 200
