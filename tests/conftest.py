"""The whole suite uses the kit that plugin authors use: notify_core.testing."""

from __future__ import annotations

import os

import pytest

from notify_core.testing import UPDATE_ENV

pytest_plugins = ["notify_core.testing"]


@pytest.fixture(autouse=True)
def _no_ambient_notify_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own NOTIFY_* variables must not change what a test sees.

    ``NOTIFY_UPDATE_GOLDEN`` stays: it tells the kit's ``check_golden`` to rewrite files.
    """
    for key in list(os.environ):
        if key.startswith("NOTIFY_") and key != UPDATE_ENV:
            monkeypatch.delenv(key)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio through anyio's pytest plugin (httpx already needs anyio)."""
    return "asyncio"


@pytest.fixture(params=["sqlite", "postgres"])
def store_db(request: pytest.FixtureRequest, tmp_path) -> str:
    """A fresh, empty store on each backend in turn: a SQLite file, a PostgreSQL database.

    For tests about store semantics, which must not depend on the backend.
    """
    if request.param == "sqlite":
        return str(tmp_path / "notify.db")
    return str(request.getfixturevalue("postgres_url"))
