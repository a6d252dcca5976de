"""The whole suite uses the kit that plugin authors use: notify_core.testing."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

pytest_plugins = ["notify_core.testing"]


@pytest.fixture(autouse=True)
def _no_ambient_notify_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A developer's own NOTIFY_* variables must not change what a test sees."""
    for key in list(os.environ):
        if key.startswith("NOTIFY_"):
            monkeypatch.delenv(key)
    yield
