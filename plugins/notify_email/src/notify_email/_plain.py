"""The text/plain part: what a terminal mail reader, a pager gateway or a filter sees.

It says everything the HTML part says, in the same order, as plain lines; the body is
kept exactly as written (Markdown and all), since nothing here interprets it.
"""

from __future__ import annotations

from ._content import Content, footer_facts


def render_text(item: Content) -> str:
    """The text part of ``item``: subject line, body, fields, links, signature."""
    lines = [item.subject, ""]
    if item.body:
        lines += [item.body, ""]
    if item.fields:
        for name, value in item.fields:
            # a multi-line value stays readable: continuation lines are indented
            lines.append(f"{name}: " + value.replace("\n", "\n  "))
        if item.fields_dropped:
            lines.append(f"… and {item.fields_dropped} more fields")
        lines.append("")
    for link in item.links:
        lines.append(f"{link.label}: {link.url}")
    if item.links:
        lines.append("")
    lines += ["-- ", "Sent by notify · " + " · ".join(footer_facts(item))]
    return "\n".join(lines) + "\n"
