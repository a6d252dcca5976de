"""cattrs conversion of messages to and from plain data (JSON, TOML, the store)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import cattrs

from ._models import Message, Severity

converter = cattrs.Converter(omit_if_default=False)
converter.register_unstructure_hook(datetime, lambda dt: dt.isoformat())
converter.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))
converter.register_unstructure_hook(Severity, lambda s: s.value)
converter.register_structure_hook(Severity, lambda v, _: Severity.parse(v))


def message_to_dict(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = converter.unstructure(message)
    return data


def message_from_dict(data: dict[str, Any]) -> Message:
    return converter.structure(data, Message)


def message_to_json(message: Message) -> str:
    return json.dumps(message_to_dict(message), ensure_ascii=False, default=str)


def message_from_json(text: str) -> Message:
    return message_from_dict(json.loads(text))
