"""Caller text → Slack ``mrkdwn``: escaped, lightly converted from Markdown, cut safely.

Escaping is a security matter, not cosmetics: in mrkdwn ``<!channel>``, ``<@U…>`` and
``<url|label>`` are control sequences, so a title or field value carrying
``<!everyone>`` from event data would page a whole workspace. Slack's rule is to
escape ``&``, ``<`` and ``>``; we keep a ``>`` that opens a line, because there it is
Markdown's block quote (which mrkdwn shares) and cannot start a control sequence.

Callers write Markdown (``**bold**``, ``[text](url)``, ``# Heading``); mrkdwn spells
those ``*bold*``, ``<url|text>`` and has no headings, so they are converted, which keeps
links clickable instead of showing raw brackets.

:func:`fit` cuts with the core's :func:`~notify_core.truncate` and then repairs what a
blind cut can break in mrkdwn: half an entity (``&am…``) or half a link (``<https://…``).
"""

from __future__ import annotations

import re

from notify_core.plugin import MARKER, truncate

_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_GT_INSIDE_LINE = re.compile(r"(?!^)>", re.MULTILINE)
# Runs on escaped text: the label has no raw ``<``/``>``, the URL stops at spaces and
# parentheses; ``|`` would end the URL inside ``<url|label>``, so it is excluded.
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s()|]+)\)")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def escape(text: str) -> str:
    """Slack's three escapes, keeping a line-opening ``>`` (block quote)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _GT_INSIDE_LINE.sub("&gt;", text)


def from_markdown(text: str) -> str:
    """Markdown-ish caller text as safe mrkdwn (see the module docstring)."""
    text = _HEADING.sub(r"*\1*", text)
    text = _BOLD.sub(r"*\1*", text)
    text = _STRIKE.sub(r"~\1~", text)
    return _LINK.sub(r"<\2|\1>", escape(text))


def fit(text: str, limit: int) -> str:
    """``text`` (already mrkdwn) in at most ``limit`` characters, ending in ``…`` if cut."""
    if len(text) <= limit:
        return text
    head = truncate(text, limit)[: -len(MARKER)]
    # Every raw "<" was escaped, so a "<" here opens a link we made: never cut one open.
    opened = head.rfind("<")
    if opened > head.rfind(">"):
        head = head[:opened]
    head = _PARTIAL_ENTITY.sub("", head)
    return head.rstrip() + MARKER
