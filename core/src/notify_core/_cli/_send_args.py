"""``notify send``'s command line read without typer, when it is a plain one.

A one-message send is a command people put in scripts and cron jobs, and typer is
most of its start-up: importing it, building its click command, and (typer 0.29 and
later) a pydantic ``TypeAdapter`` for every option it converts, 100 ms and more per
run. This reader knows the options of ``notify send`` and nothing else; whatever it
does not read plainly (``--help``, a misspelt or unknown option, a missing value, a
number that is not one, shell completion) it leaves to typer, by returning None, so
every error and every help text still comes from one place. A test reads the same
command lines through both and compares what they parsed, and holds this table to
the options typer declares, so the two cannot drift apart.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

Kind = Literal["text", "many", "flag", "number", "path"]


class Opt(NamedTuple):
    """One option: the parameter it sets, the names it goes by, what it takes."""

    dest: str
    names: tuple[str, ...]
    kind: Kind


#: ``notify send``'s options, as ``_send_command.send`` declares them to typer
OPTIONS = (
    Opt("title", ("--title", "-t"), "text"),
    Opt("body", ("--body", "-b"), "text"),
    Opt("event", ("--event",), "text"),
    Opt("severity", ("--severity", "-s"), "text"),
    Opt("field", ("--field", "-f"), "many"),
    Opt("action", ("--action", "-a"), "many"),
    Opt("state", ("--state",), "text"),
    Opt("dedup_key", ("--dedup-key",), "text"),
    Opt("thread_id", ("--thread-id",), "text"),
    Opt("to", ("--to",), "many"),
    Opt("url", ("--url",), "text"),
    Opt("provider", ("--provider",), "text"),
    Opt("option", ("--option", "-o"), "many"),
    Opt("setting", ("--setting",), "many"),
    Opt("tenant", ("--tenant",), "text"),
    Opt("config", ("--config", "-c"), "path"),
    Opt("db", ("--db",), "text"),
    Opt("dry_run", ("--dry-run",), "flag"),
    Opt("json_out", ("--json",), "flag"),
    Opt("quiet", ("--quiet", "-q"), "flag"),
    Opt("wait", ("--wait",), "number"),
)
_BY_NAME = {name: opt for opt in OPTIONS for name in opt.names}
#: typer's completion runs when the environment asks for it (``_NOTIFY_COMPLETE``)
_COMPLETION = "_NOTIFY_COMPLETE"
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def parse_send(args: Sequence[str]) -> dict[str, Any] | None:
    """The keyword arguments of ``run_send`` for ``args`` (after ``send``), or None.

    None means "let typer read it": the line is not one this reader is sure of.
    """
    if _COMPLETION in os.environ:
        return None
    given: dict[str, Any] = {}
    many: dict[str, list[str]] = {}
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        name, eq, inline = word.partition("=") if word.startswith("--") else (word, "", "")
        opt = _BY_NAME.get(name)
        if opt is None and word[:1] == "-" and word[1:2] != "-" and len(word) > 2:
            opt = _BY_NAME.get(word[:2])  # -tTitle: a short option with its value attached
            if opt is not None:
                eq, inline = "=", word[2:]
        if opt is None:  # a word, an unknown option, --help, --: typer says what it is
            return None
        if opt.kind == "flag":
            if eq:  # --json=yes, -qv: typer refuses or reads it its own way
                return None
            given[opt.dest] = True
            continue
        if eq:
            value = inline
        elif i < len(args):  # click takes the next word whatever it looks like: -b -
            value = args[i]
            i += 1
        else:
            return None  # "requires an argument": typer's words
        if opt.kind == "many":
            many.setdefault(opt.dest, []).append(value)
        elif opt.kind == "number":
            number = _number(value)
            if number is None:
                return None
            given[opt.dest] = number
        elif opt.kind == "path":
            given[opt.dest] = Path(value)
        else:
            given[opt.dest] = value
    return given | many


def _number(value: str) -> float | None:
    """Plain decimal seconds (``30``, ``0.5``); None for anything else.

    Anything else (``1e3``, ``inf``, ``1_000``, a word) goes to typer, whose reading
    of such text differs between its versions: this reader must not pick one.
    """
    return float(value) if _DECIMAL.fullmatch(value) else None
