"""Catching impure code in the act: I/O, clocks and randomness during a call that must be pure.

Two instruments, both active only on the calling thread and only inside :func:`pure`:

* an audit hook (:func:`sys.addaudithook`) sees every file open, socket, subprocess
  and database connection Python makes and refuses it;
* a profile function (:func:`sys.setprofile`) sees calls to the clock
  (``time.time``, ``datetime.now``…) and to the shared random generators
  (``random.*``, ``secrets``, ``uuid4``, ``os.urandom``).

Either one records what it saw, so a plugin that swallows the refusal in a broad
``except`` is still reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import gc
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from types import FrameType
from typing import Any

#: Audit events that are I/O (prefixes match ``os.exec…``, ``socket.…`` and the like).
_IO_EVENTS = (
    "open",
    "socket.",
    "subprocess.",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.listdir",
    "os.scandir",
    "os.remove",
    "os.rename",
    "os.mkdir",
    "os.rmdir",
    "os.truncate",
    "shutil.",
    "sqlite3.connect",
    "urllib.Request",
    "http.client.connect",
    "smtplib.",
    "ftplib.",
    "glob.glob",
    "webbrowser.open",
)

_CLOCKS: dict[Any, str] = {
    time.time: "time.time()",
    time.time_ns: "time.time_ns()",
    time.monotonic: "time.monotonic()",
    time.monotonic_ns: "time.monotonic_ns()",
    time.perf_counter: "time.perf_counter()",
    time.perf_counter_ns: "time.perf_counter_ns()",
    os.urandom: "os.urandom()",
}
if hasattr(os, "getrandom"):
    _CLOCKS[os.getrandom] = "os.getrandom()"
_CLOCK_METHODS = {"now", "utcnow", "today"}
_UUID_CODES = {uuid.uuid1.__code__: "uuid.uuid1()", uuid.uuid4.__code__: "uuid.uuid4()"}


class ImpureCall(AssertionError):
    """Raised (and recorded) when guarded code does I/O."""


class _State(threading.local):
    active: bool = False
    found: list[str]


_state = _State()
_hook_installed = False
_install_lock = threading.Lock()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _state.active or not event.startswith(_IO_EVENTS):
        return
    what = f"{event}{_describe(args)}"
    _state.active = False  # building the message must not trip the hook again
    try:
        _state.found.append(f"I/O: {what}")
    finally:
        _state.active = True
    raise ImpureCall(f"I/O is not allowed here: {what}")


def _describe(args: tuple[Any, ...]) -> str:
    if not args:
        return ""
    first = args[0]
    if isinstance(first, str | bytes | os.PathLike | int):
        return f"({first!r})"
    return ""


def _install() -> None:
    global _hook_installed
    with _install_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)  # cannot be removed; inert unless a guard is active
            _hook_installed = True


def _clock_name(func: Any) -> str | None:
    name = _CLOCKS.get(func) if _hashable(func) else None
    if name:
        return name
    owner = getattr(func, "__self__", None)
    method = getattr(func, "__name__", "")
    if isinstance(owner, type) and issubclass(owner, _dt.date) and method in _CLOCK_METHODS:
        return f"{owner.__name__}.{method}()"
    if owner is getattr(random, "_inst", None) and owner is not None:
        return f"random.{method}()"
    return None


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _profile(frame: FrameType, event: str, arg: Any) -> None:
    if not _state.active:
        return
    name: str | None = None
    if event == "c_call":
        name = _clock_name(arg)
    elif event == "call":
        code = frame.f_code
        module = frame.f_globals.get("__name__")
        if code in _UUID_CODES:
            name = _UUID_CODES[code]
        elif module == "secrets":
            name = f"secrets.{code.co_name}()"
        elif module == "random" and frame.f_locals.get("self") is getattr(random, "_inst", None):
            name = f"random.{code.co_name}()"
    if name and not any(name in seen for seen in _state.found):
        _state.found.append(f"clock or randomness: {name}")


@contextlib.contextmanager
def pure() -> Iterator[list[str]]:
    """Run the block with I/O refused and clock/random calls recorded.

    Yields the list of violations, filled as they happen; it is complete when the
    block ends. Not reentrant; other threads are not affected.
    """
    _install()
    if _state.active:
        raise RuntimeError("notify_core.testing: pure() blocks cannot be nested")
    _state.found = []
    # No garbage collection inside the block: finalizers of garbage left by earlier code
    # (an event loop, a client) would run there and be blamed on the guarded call.
    collecting = gc.isenabled()
    gc.disable()
    previous = sys.getprofile()
    sys.setprofile(_profile)
    _state.active = True
    try:
        yield _state.found
    finally:
        _state.active = False
        sys.setprofile(previous)
        if collecting:
            gc.enable()


_ASYNC_SLEEP = asyncio.sleep.__code__


@contextlib.contextmanager
def no_sleep() -> Iterator[list[str]]:
    """Record every ``time.sleep`` and positive ``asyncio.sleep`` made on this thread."""
    found: list[str] = []

    def watch(frame: FrameType, event: str, arg: Any) -> None:
        name = ""
        if event == "c_call" and arg is time.sleep:
            name = "time.sleep()"
        elif event == "call" and frame.f_code is _ASYNC_SLEEP:
            delay = frame.f_locals.get("delay")
            if isinstance(delay, int | float) and delay > 0:
                name = f"asyncio.sleep({delay!r})"
        if name and name not in found:
            found.append(name)

    previous = sys.getprofile()
    sys.setprofile(watch)
    try:
        yield found
    finally:
        sys.setprofile(previous)
