"""The purity guard behind the contract: what it catches, and what it lets through."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import random
import socket
import time
import uuid

import pytest

from notify_core.testing._guard import ImpureCall, no_sleep, pure


@pytest.mark.parametrize(
    ("call", "seen"),
    [
        (time.time, "time.time()"),
        (time.monotonic_ns, "time.monotonic_ns()"),
        (lambda: dt.datetime.now(dt.timezone.utc), "datetime.now()"),
        (dt.date.today, "date.today()"),
        (random.random, "random.random()"),
        (lambda: random.choice("abc"), "random.choice()"),
        (uuid.uuid4, "uuid.uuid4()"),
        (lambda: os.urandom(4), "os.urandom()"),
    ],
)
def test_clock_and_randomness_are_seen(call, seen) -> None:
    with pure() as found:
        call()
    assert any(seen in f for f in found), found


def test_io_is_refused_even_when_the_plugin_swallows_the_error(tmp_path) -> None:
    with pure() as found:
        with contextlib.suppress(Exception):  # a plugin swallowing the refusal
            open(tmp_path / "x", "w").close()
        with pytest.raises(ImpureCall):
            socket.socket()
    assert found[0].startswith("I/O: open(")
    assert found[1].startswith("I/O: socket.__new__")
    assert not (tmp_path / "x").exists()


def test_deterministic_work_is_not_flagged() -> None:
    with pure() as found:
        json.dumps({"a": [1, 2.5, "ü"]}, ensure_ascii=False)
        hashlib.sha256(b"x").hexdigest()
        uuid.uuid5(uuid.NAMESPACE_URL, "https://example.com")
        random.Random(42).random()  # a seeded generator of one's own is deterministic
        dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc).isoformat()
    assert found == []


def test_guards_end_with_the_block() -> None:
    with pure():
        pass
    time.time()
    with open(os.devnull) as f:  # I/O is allowed again
        f.read()
    with pytest.raises(RuntimeError, match="cannot be nested"), pure(), pure():
        pass


async def _naps() -> None:
    import asyncio

    await asyncio.sleep(0)  # a checkpoint, not a wait
    await asyncio.sleep(0.001)


def test_no_sleep_sees_waits_but_not_checkpoints() -> None:
    import asyncio

    with no_sleep() as slept:
        asyncio.run(_naps())
    assert slept == ["asyncio.sleep(0.001)"]
