"""The default JSON envelope, the values a user template may use, and filling one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notify_core.plugin import Message, placeholders, render


def envelope(message: Message, delivery_id: str, tenant: str | None) -> dict[str, Any]:
    """A stable, documented shape: receivers should rely on these keys only."""
    return {
        "id": delivery_id,
        "event": message.event,
        "severity": message.severity.value,
        "state": message.state,
        "timestamp": message.timestamp.isoformat(),
        "title": message.title,
        "body": message.body,
        "fields": [{"name": f.name, "value": f.value} for f in message.fields],
        "actions": [{"label": a.label, "url": a.url, "style": a.style} for a in message.actions],
        "dedup_key": message.effective_dedup_key(),
        "tags": list(message.tags),
        "tenant": tenant,
        "data": dict(message.data),
    }


def template_values(message: Message, delivery_id: str, tenant: str | None) -> dict[str, Any]:
    """Event data first, then the message's own values (which win on a clash)."""
    values: dict[str, Any] = {str(k): v for k, v in message.data.items()}
    values.update({f.name: f.value for f in message.fields if f.name.isidentifier()})
    values.update(envelope(message, delivery_id, tenant))
    values["delivery_id"] = delivery_id
    return values


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """Fill a JSON template; a string that is exactly ``{name}`` keeps the value's type."""
    if isinstance(template, str):
        names = placeholders(template)
        if len(names) == 1 and template == "{" + names[0] + "}":
            if names[0] not in values:
                render(template, values)  # raises the TemplateError that names the key
            return values[names[0]]
        return render(template, values)
    if isinstance(template, Mapping):
        return {str(k): fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    return template
