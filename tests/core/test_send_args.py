"""``notify send`` read without typer: the same options, the same values, or typer's say.

The plain reader (``_send_args``) exists for start-up time; what is asserted here is
that it cannot change what a command line means. Its table is held to the options
typer declares; every line of a corpus is read by both, and the values compared;
what it does not read plainly it hands to typer, so errors and help stay typer's.
"""

from __future__ import annotations

import inspect
import json
import typing
from pathlib import Path

import pytest

from notify_core._cli._send_args import OPTIONS, parse_send
from notify_core._cli._send_command import send
from notify_core.testing import run_notify

#: What a plain `notify send` must not import: typer and what typer brings.
TYPER_MODULES = ("typer", "click", "rich", "pydantic", "pydantic_core", "shellingham")


def typer_send_command():
    from notify_core._cli._commands import command_for

    return command_for(["send"]).commands["send"]


def kind_of(annotation: object) -> str:
    """What a parameter of the typer function takes, in the plain reader's words."""
    args = set(typing.get_args(annotation)) - {type(None)} or {annotation}
    if args == {bool}:
        return "flag"
    if args == {float}:
        return "number"
    if args == {Path}:
        return "path"
    if any(typing.get_origin(a) is list for a in args):
        return "many"
    assert args == {str}, annotation
    return "text"


def test_the_table_is_the_options_typer_declares():
    declared = {
        p.name: (tuple(p.opts), tuple(p.secondary_opts))
        for p in typer_send_command().params
        if p.name != "help"
    }
    assert {o.dest: (o.names, ()) for o in OPTIONS} == declared
    hints = typing.get_type_hints(send)
    hints.pop("return")
    assert {o.dest: o.kind for o in OPTIONS} == {k: kind_of(v) for k, v in hints.items()}


LINES = [
    ["-t", "hi"],
    ["--title", "hi", "--body", "x", "--wait", "0"],
    ["--title=hi", "--body=a=b=c", "--wait=2.5"],
    ["-thi", "-bx", "-s", "error", "-swarning"],
    ["-t=hi"],  # click's reading: the value is "=hi"
    ["-t", "hi", "-b", "-"],  # stdin
    ["-t", "-b", "-b", "--json"],  # a value may look like an option
    ["-t", "", "--event", ""],
    ["-t", "last wins", "-t", "second"],
    ["-t", "x", "-f", "a=1", "--field", "b=2", "-fc=3", "--field=d=4"],
    ["-t", "x", "-a", "Run=https://ci.example/1", "--action", "Logs=https://ci.example/2"],
    ["-t", "x", "--to", "a", "--to", "b", "--tenant", "acme", "--db", "x.db"],
    ["-t", "x", "--url", "https://h.example/x", "--provider", "webhook", "-o", "k=v"],
    ["-t", "x", "--url", "https://h.example/x", "--setting", "a.b=1", "--setting=c=d"],
    ["-t", "x", "-c", "conf/notify.toml", "--config=other.toml"],
    ["-t", "x", "--dry-run", "--json", "-q", "--quiet"],
    ["-t", "x", "--state", "resolve", "--dedup-key", "k1", "--thread-id", "t1"],
    ["-t", "x", "--wait", "0.", "--wait", ".5", "--wait", "-1", "--wait", "86400"],
    ["-t", "caf\udcc3\udca9 \u2603", "-b", "\udcff"],  # undecodable bytes as Python holds them
    [],
]


def normalized(params: dict) -> dict:
    """Values as ``run_send`` takes them: an empty or missing list is no list."""
    defaults = {name: p.default for name, p in inspect.signature(send).parameters.items()}
    out = defaults | params
    for o in OPTIONS:
        if o.kind == "many":
            out[o.dest] = list(out[o.dest] or [])
    return out


def through_typer(argv: list[str], monkeypatch) -> dict:
    """What typer hands ``run_send`` for ``notify send ARGV`` (it is not run)."""
    from notify_core._cli import _send_command

    received: dict = {}
    monkeypatch.setattr(_send_command, "run_send", lambda **kw: received.update(kw) or 0)
    typer_send_command().main(args=list(argv), prog_name="send", standalone_mode=False)
    return received


@pytest.mark.parametrize("argv", LINES, ids=lambda a: " ".join(a)[:40] or "(none)")
def test_a_plain_line_means_what_it_means_to_typer(argv, monkeypatch):
    plain = parse_send(argv)
    assert plain is not None, "the plain reader should read this line"
    assert normalized(plain) == normalized(through_typer(argv, monkeypatch))


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["-t", "x", "-h"],
        ["-t", "x", "--bogus"],
        ["-t", "x", "--titel", "y"],  # misspelt: typer suggests the option
        ["-t"],  # missing value
        ["-t", "x", "--wait", "soon"],
        ["-t", "x", "--wait", "1e3"],  # numbers typer versions read differently
        ["-t", "x", "--wait", "inf"],
        ["-t", "x", "--wait", "1_000"],
        ["-qt", "x"],  # combined short options
        ["-t", "x", "--json=yes"],
        ["-t", "x", "stray"],
        ["--", "-t", "x"],
        ["-t", "x", "-"],
    ],
    ids=lambda a: " ".join(a),
)
def test_anything_else_is_left_to_typer(argv):
    assert parse_send(argv) is None


def test_shell_completion_is_left_to_typer(monkeypatch):
    monkeypatch.setenv("_NOTIFY_COMPLETE", "bash_complete")
    assert parse_send(["-t", "x"]) is None


CONFIG = """
[notify]
db = "notify.db"
[channels.hook]
provider = "webhook"
url = "http://127.0.0.1:9/hook"
"""


def test_a_plain_send_does_not_import_typer_and_still_queues(tmp_path, loaded_modules):
    (tmp_path / "notify.toml").write_text(CONFIG)
    modules = loaded_modules("send", "-t", "hi", "--wait", "0")
    assert not {m for m in modules if m.split(".")[0] in TYPER_MODULES}
    # queueing alone starts no event loop and makes no HTTP client (Notifier.send)
    assert not {"asyncio", "httpx", "aiohttp", "ssl", "notify_core._dispatch"} & modules
    log = run_notify("log", "--json", cwd=tmp_path)
    assert [r["status"] for r in json.loads(log.stdout)] == ["pending"]


def test_a_send_typer_reads_imports_it_and_says_what_is_wrong(tmp_path, loaded_modules):
    (tmp_path / "notify.toml").write_text(CONFIG)
    # --debug anywhere is the root's flag: still the plain reader
    modules = loaded_modules("send", "-t", "hi", "--wait", "0", "--debug")
    assert "typer" not in modules
    bad = run_notify("send", "-t", "hi", "--wiat", "0", cwd=tmp_path)
    assert bad.returncode == 2
    assert "No such option: --wiat" in bad.stderr and "Traceback" not in bad.stderr
    assert run_notify("send", "-t", "hi", "--wait", "soon", cwd=tmp_path).returncode == 2
    log = run_notify("log", "--json", cwd=tmp_path)  # the refused lines queued nothing
    assert len(json.loads(log.stdout)) == 1


def test_status_words_are_coloured_as_typer_colours_them(monkeypatch):
    """The plain path paints without typer: the same escape codes ``typer.style`` writes."""
    import typer

    from notify_core._cli import _shared

    monkeypatch.setattr(_shared, "colored", lambda: True)
    for status, colour in _shared.COLORS.items():
        assert _shared.paint(status, 9) == typer.style(status.ljust(9), fg=colour)
    monkeypatch.setattr(_shared, "colored", lambda: False)
    assert _shared.paint("failed", 9) == "failed   "
