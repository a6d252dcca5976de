"""The kit's real PostgreSQL and Redis servers: they start, serve, restart and fail clearly."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import psycopg
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from notify_core.testing import PostgresServer, RedisServer, ServerFailed, ServerNotFound
from notify_core.testing._service_fixtures import _started

# -- PostgreSQL ----------------------------------------------------------------------------


def test_postgres_serves_a_fresh_database_as_a_plain_role(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, connect_timeout=5) as conn:
        user, superuser, db = conn.execute(
            "SELECT current_user, usesuper, current_database()"
            " FROM pg_user WHERE usename = current_user"
        ).fetchone()  # type: ignore[misc]
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
        conn.execute("CREATE TABLE t (id int PRIMARY KEY)")  # the role owns its database
        conn.execute("INSERT INTO t VALUES (1)")
    assert (user, superuser) == ("notify", False)
    assert db.startswith("t") and "fresh_database" in db  # named after the test
    assert tables == (0,)


def test_each_test_gets_its_own_database(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    other = postgres_server.create_database("someone_elses")
    try:
        with psycopg.connect(other) as conn:
            conn.execute("CREATE TABLE mine (x int)")
        with psycopg.connect(postgres_url) as conn:
            seen = conn.execute("SELECT to_regclass('mine')").fetchone()
        assert seen == (None,)
    finally:
        postgres_server.drop_database("someone_elses")


def test_the_password_in_the_url_is_checked(postgres_server: PostgresServer) -> None:
    with psycopg.connect(postgres_server.url, connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    wrong = postgres_server.url.replace(postgres_server.password, "not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5)


def test_the_password_stays_out_of_reprs(postgres_server: PostgresServer) -> None:
    assert postgres_server.password in postgres_server.url
    for shown in (repr(postgres_server), postgres_server.masked_url):
        assert postgres_server.password not in shown
        assert ":***@127.0.0.1:" in shown


def test_restart_keeps_data_and_port(postgres_server: PostgresServer, postgres_url: str) -> None:
    port = postgres_server.port
    conn = psycopg.connect(postgres_url, autocommit=True)
    conn.execute("CREATE TABLE kept (v text)")
    conn.execute("INSERT INTO kept VALUES ('before the restart')")

    postgres_server.restart()

    assert postgres_server.port == port and postgres_server.running
    with pytest.raises(psycopg.OperationalError):  # what a client mid-run sees
        conn.execute("SELECT 1")
    conn.close()
    with psycopg.connect(postgres_url) as again:  # the same URL works again
        assert again.execute("SELECT v FROM kept").fetchall() == [("before the restart",)]


def test_runs_as_the_postgres_user_when_root(postgres_server: PostgresServer) -> None:
    owner = postgres_server.data_dir.stat().st_uid
    expected = pwd.getpwnam("postgres").pw_uid if os.geteuid() == 0 else os.geteuid()
    assert owner == expected


def test_close_removes_everything() -> None:
    server = PostgresServer()
    with server:
        directory = server.directory
        assert (directory / "data" / "PG_VERSION").exists()
    assert not server.running
    assert not directory.exists()


# -- Redis ---------------------------------------------------------------------------------


def test_redis_serves_an_empty_database(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.dbsize() == 0  # emptied for this test...
        client.set("left", "behind")  # ...whatever the previous test left
        assert client.get("left") == b"behind"
    finally:
        client.close()


def test_redis_is_emptied_between_tests(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.dbsize() == 0
        client.set("left", "behind")
    finally:
        client.close()


def test_redis_restart_keeps_the_port_and_clients_reconnect(
    redis_server: RedisServer, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        client.set("k", "v")
        port = redis_server.port
        redis_server.restart()
        assert redis_server.port == port
        assert client.get("k") is None  # no persistence: a restart is a fresh cache
        client.set("k", "again")  # redis-py reconnects on the next command
        assert client.get("k") == b"again"
    finally:
        client.close()


def test_redis_with_a_password(tmp_path: Path) -> None:
    with RedisServer(password="hunter2-secret", base_dir=tmp_path) as server:
        assert server.url == f"redis://:hunter2-secret@127.0.0.1:{server.port}/0"
        assert "hunter2-secret" not in repr(server)
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        client.close()
        # no retries: redis-py's default retries an AuthenticationError for seconds
        anonymous = redis.Redis(host="127.0.0.1", port=server.port, retry=Retry(NoBackoff(), 0))
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        anonymous.close()


# -- missing binaries ----------------------------------------------------------------------


def test_missing_postgres_fails_with_the_install_hint(tmp_path: Path) -> None:
    with pytest.raises(ServerNotFound) as caught:
        PostgresServer(search=tmp_path).start()
    assert str(caught.value) == (
        f"PostgreSQL server binaries not found (looked in {tmp_path}): apt-get install postgresql"
    )


def test_missing_redis_fails_with_the_install_hint(tmp_path: Path) -> None:
    with pytest.raises(ServerNotFound) as caught:
        RedisServer(path=str(tmp_path)).start()
    assert str(caught.value) == (
        f"redis-server not found in {tmp_path}: apt-get install redis-server"
    )


def test_default_messages_name_where_they_looked(monkeypatch: pytest.MonkeyPatch) -> None:
    from notify_core.testing import _services

    monkeypatch.setattr(_services, "DEBIAN_PG_BIN", "/nonexistent/postgresql/*/bin")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ServerNotFound, match=r"^redis-server not found on PATH: apt-get"):
        _services.find_redis_server()
    with pytest.raises(
        ServerNotFound,
        match=r"^PostgreSQL server binaries not found \(looked in /nonexistent/postgresql/\*/bin"
        r" and on PATH\): apt-get install postgresql$",
    ):
        _services.find_postgres_bin()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the cluster to 'postgres'")
def test_root_names_a_base_dir_postgres_cannot_enter(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    server = PostgresServer(base_dir=private)
    with pytest.raises(ServerFailed, match=r"'postgres' user, who cannot enter /\S*: pass"):
        server.start()
    server.close()


def test_a_fixture_fails_rather_than_skips(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception) as caught:
        _started(RedisServer(path=str(tmp_path)))
    assert caught.value.msg == f"redis-server not found in {tmp_path}: apt-get install redis-server"
    assert caught.value.pytrace is False  # one clear line, no traceback
