"""The kit's pytest fixtures (re-exported by :mod:`notify_core.testing`, the plugin module)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from .._channel import Channel
from .._notifier import Notifier
from ._cli import CliResult, run_notify
from ._local import local_notifier
from ._server import RecordingServer


@pytest.fixture
def recorder() -> Iterator[RecordingServer]:
    """A started :class:`RecordingServer`, stopped after the test."""
    with RecordingServer() as server:
        yield server


@pytest.fixture
def notify_cli(tmp_path: Path) -> Callable[..., CliResult]:
    """``notify_cli("send", "-t", "hi", env={...})`` runs the CLI in ``tmp_path``."""

    def run(
        *args: str,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        timeout: float = 60,
    ) -> CliResult:
        return run_notify(*args, cwd=tmp_path, env=env, input=input, timeout=timeout)

    return run


@pytest.fixture
def notifier_for(recorder: RecordingServer, tmp_path: Path) -> Iterator[Callable[..., Notifier]]:
    """``notifier_for(plugin, *channels, name=None, **kwargs)``: a notifier for one plugin.

    Only ``plugin`` is registered (under ``name``, default its ``__name__``), nothing is
    read from entry points, every origin the channels send to is rerouted to the
    ``recorder`` and any other host is refused. The store is ``tmp_path / "notify.db"``;
    ``kwargs`` go to :func:`local_notifier` (``wait``, ``reroute``, ``env``…). Closed
    after the test.
    """
    made: list[Notifier] = []

    def make(
        plugin: object, *channels: Channel, name: str | None = None, **kwargs: Any
    ) -> Notifier:
        kwargs.setdefault("db", tmp_path / "notify.db")
        notifier = local_notifier(plugin, channels, server_url=recorder.url, name=name, **kwargs)
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        notifier.close()
