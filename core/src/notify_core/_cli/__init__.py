"""The ``notify`` command line.

Errors are one line on stderr and exit 2 (usage or configuration) or 1 (something
failed); ``--debug`` shows the traceback. Commands live in modules named for what
they do and register themselves on :data:`app`.
"""

from __future__ import annotations

import sys

from .._errors import NotifyError

EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``notify`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:  # answered before typer and the commands are imported
        from ._version import version_text

        sys.stdout.write(version_text())
        return 0
    return _run(args)


def _run(args: list[str]) -> int:
    """Run the command line; every error becomes one line and an exit code."""
    from ._shared import state

    state.debug = "--debug" in args
    if state.debug:  # accepted anywhere on the line, not only before the command
        args = [a for a in args if a != "--debug"]
    try:
        result = _plain_send(args)
        if result is None:
            result = _typer(["--debug", *args] if state.debug else args)
    except NotifyError as exc:
        if state.debug:
            _print_traceback()
        print(f"notify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("notify: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if state.debug:
            _print_traceback()
        print(
            f"notify: internal error: {type(exc).__name__}: {exc} "
            "(rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return result


def _plain_send(args: list[str]) -> int | None:
    """``notify send`` with a plain command line, run without importing typer.

    None when the line is anything else: typer reads it (see ``_send_args``).
    """
    if not args or args[0] != "send":
        return None
    from ._send_args import parse_send

    params = parse_send(args[1:])
    if params is None:
        return None
    from ._send import run_send

    return run_send(**params)


def _typer(args: list[str]) -> int:
    """The command line through typer: every command and ``--help``."""
    import typer

    from ._commands import command_for  # the modules register their commands

    command = command_for(args)
    if not args:  # `notify` alone asks what there is: the help, on stdout, exit 0
        with command.make_context("notify", ["--help"], resilient_parsing=True) as help_ctx:
            sys.stdout.write(command.get_help(help_ctx) + "\n")
        return 0
    try:
        result = command.main(args=args, prog_name="notify", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print("notify: interrupted", file=sys.stderr)
        return 130
    except typer.TyperException as exc:  # usage errors: bad option, missing value, …
        ctx = getattr(exc, "ctx", None)
        where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        print(f"notify: error: {exc.format_message()}{where}", file=sys.stderr)
        return EXIT_USAGE
    return result if isinstance(result, int) else 0


def _print_traceback() -> None:
    import traceback  # for --debug only

    traceback.print_exc()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
