"""The kit's fixtures for real PostgreSQL and Redis servers (see :mod:`._services`).

One server of each per test session (started on first use: half a second for PostgreSQL,
most of it ``initdb``; a few milliseconds for Redis), and per test a fresh database or an
empty Redis: isolation at the price of milliseconds. A missing server binary fails the
test with the install hint; it is never a skip.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest

from ._services import PostgresServer, RedisServer, ServerFailed, ServerNotFound

__all__ = [  # the servers too: notify_core.testing re-exports them from here, with the fixtures
    "PostgresServer",
    "RedisServer",
    "ServerFailed",
    "ServerNotFound",
    "postgres_server",
    "postgres_url",
    "redis_server",
    "redis_url",
]

_numbers = itertools.count(1)


def _started(server: PostgresServer | RedisServer) -> None:
    """Start ``server`` or fail the test with the one-line reason (and install hint)."""
    try:
        server.start()
    except (ServerNotFound, ServerFailed) as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A started :class:`PostgresServer` shared by the session, deleted at its end."""
    server = PostgresServer()
    try:
        _started(server)
        yield server
    finally:
        server.close()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a fresh, empty database for this test, dropped afterwards.

    The database is named after the test (``t<n>_<test name>``) so that a look at the
    server while a test hangs says whose it is. A test that stopped the session server
    gets it started again here.
    """
    if not postgres_server.running:
        _started(postgres_server)
    slug = re.sub(r"\W+", "_", request.node.name).strip("_").lower()
    name = f"t{next(_numbers)}_{slug}"[:63]
    url = postgres_server.create_database(name)
    yield url
    if not postgres_server.running:
        _started(postgres_server)
    postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A started :class:`RedisServer` shared by the session, stopped at its end."""
    server = RedisServer()
    try:
        _started(server)
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """``redis://127.0.0.1:port/0`` of the session server, emptied (``FLUSHALL``) first.

    A test that stopped the session server gets it started again here.
    """
    if not redis_server.running:
        _started(redis_server)
    redis_server.flush()
    return redis_server.url
