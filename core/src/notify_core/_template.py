"""Event templates: event data in, message out, through a deliberately tiny language.

Only ``{name}`` placeholders are allowed: no attribute access, no indexing, no
conversions, no format specs. Templates come from configuration files that people
other than the code's authors edit, and ``str.format`` with attribute access can walk
from any object to module globals; a format spec like ``{x:>999999999}`` can exhaust
memory. ``{{`` and ``}}`` are literal braces.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

import attrs

from ._errors import TemplateError
from ._models import Action, Field, Message, Severity

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_formatter = string.Formatter()


def placeholders(template: str) -> list[str]:
    """The names a template uses; raises TemplateError for anything but ``{name}``."""
    names: list[str] = []
    try:
        parsed = list(_formatter.parse(template))
    except ValueError as exc:
        raise TemplateError(f"malformed template {template!r}: {exc}") from None
    for _, field_name, spec, conversion in parsed:
        if field_name is None:
            continue
        if not _NAME.match(field_name):
            raise TemplateError(
                f"template {template!r}: only {{name}} placeholders are allowed, "
                f"not {{{field_name}}}"
            )
        if spec or conversion:
            raise TemplateError(
                f"template {template!r}: format specs and conversions are not allowed "
                f"in {{{field_name}}}"
            )
        names.append(field_name)
    return names


def render(template: str, data: Mapping[str, Any], *, where: str = "") -> str:
    """Fill ``{name}`` placeholders from ``data``; an unknown name is a TemplateError."""
    placeholders(template)  # forbidden syntax anywhere fails before any lookup
    out: list[str] = []
    for literal, field_name, _, _ in _formatter.parse(template):
        out.append(literal)
        if field_name is None:
            continue
        if field_name not in data:
            known = ", ".join(sorted(map(str, data))) or "none"
            prefix = f"{where}: " if where else ""
            raise TemplateError(
                f"{prefix}unknown template key {field_name!r} (the data has: {known})"
            )
        value = data[field_name]
        out.append("" if value is None else str(value))
    return "".join(out)


@attrs.frozen(kw_only=True)
class EventTemplate:
    """How one event (``[events."training.complete"]``) becomes a message."""

    event: str
    title: str = ""
    body: str = ""
    severity: Severity | None = None
    fields: tuple[tuple[str, str], ...] = ()
    actions: tuple[tuple[str, str], ...] = ()
    dedup_key: str | None = None
    thread_id: str | None = None
    tags: tuple[str, ...] = ()

    def check(self) -> None:
        """Reject forbidden syntax at load time, before any event arrives."""
        for text in self._texts():
            placeholders(text)

    def _texts(self) -> list[str]:
        texts = [self.title, self.body, self.dedup_key or "", self.thread_id or ""]
        for name, value in (*self.fields, *self.actions):
            texts += [name, value]
        return texts

    def render(self, data: Mapping[str, Any], *, severity: Severity | None = None) -> Message:
        where = f"events.{self.event}"
        context = {"event": self.event, **data}
        return Message(
            title=render(self.title, context, where=f"{where}.title") if self.title else self.event,
            body=render(self.body, context, where=f"{where}.body"),
            event=self.event,
            severity=severity or self.severity or Severity.INFO,
            fields=tuple(
                Field(name, render(value, context, where=f"{where}.fields.{name}"))
                for name, value in self.fields
            ),
            actions=tuple(
                Action(label, render(url, context, where=f"{where}.actions.{label}"))
                for label, url in self.actions
            ),
            dedup_key=render(self.dedup_key, context, where=f"{where}.dedup_key")
            if self.dedup_key
            else None,
            thread_id=render(self.thread_id, context, where=f"{where}.thread_id")
            if self.thread_id
            else None,
            tags=self.tags,
            data=data,
        )


def default_message(
    event: str, data: Mapping[str, Any], *, severity: Severity | None = None
) -> Message:
    """An event with no template: its name as the title, its data as fields."""
    return Message(
        title=str(data.get("title", event)),
        body=str(data.get("body", "")),
        event=event,
        severity=severity or Severity.parse(str(data.get("severity", "info"))),
        fields=tuple(
            Field(k, v) for k, v in data.items() if k not in ("title", "body", "severity")
        ),
        data=data,
    )
