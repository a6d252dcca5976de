"""The shared limiter: GCRA in the store, the same math as in-process, chosen by a setting."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notify_core import (
    Channel,
    Clock,
    ConfigError,
    Message,
    Notifier,
    Providers,
    Rate,
    parse_config,
)
from notify_core._limits_gcra import GcraLimiter, gcra_delays, gcra_reserve, interval_us
from notify_core._limits_redis import RedisLimiter
from notify_core._limits_store import StoreLimiter
from notify_core._store import open_store
from notify_core._writer import BatchWriter
from notify_core.testing import FakeClock, RecordingServer

PROVIDERS = Providers.discover()


@given(
    stored=st.one_of(st.none(), st.integers(0, 10**9)),
    now=st.integers(0, 10**9),
    interval=st.integers(1, 10**7),
    burst=st.integers(1, 50),
    count=st.integers(1, 20),
)
def test_the_one_statement_form_waits_as_gcra_does(stored, now, interval, burst, count):
    """What a database stores (``max(tat, now) + n·T``) gives the n waits GCRA gives."""
    tat, delays = stored, []
    for _ in range(count):
        tat, delay = gcra_reserve(tat, now, interval, burst)
        delays.append(delay)
    assert tat == max(stored if stored is not None else now, now) + count * interval
    assert gcra_delays(tat, now, interval, burst, count) == delays


class Wall(Clock):
    """The fake clock whose monotonic time is its wall time: what the SQLite store reads."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def time(self) -> float:
        return self.clock.time()

    def monotonic(self) -> float:
        return self.clock.time()


@settings(max_examples=60, deadline=None)
@given(
    per_second=st.sampled_from([0.5, 1, 2, 5, 10, 100]),
    burst=st.integers(1, 4),
    steps=st.lists(
        st.tuples(st.integers(0, 3_000_000), st.sampled_from(["reserve", "unreserve"])),
        max_size=25,
    ),
)
def test_the_store_limiter_is_the_in_process_gcra(tmp_path_factory, per_second, burst, steps):
    clock = FakeClock()
    rate = Rate(per_second=per_second, burst=burst)
    store = open_store(tmp_path_factory.mktemp("g") / "n.db", clock=clock)
    gcra = GcraLimiter(Wall(clock))
    try:
        for advance, op in steps:
            clock.advance(advance / 1_000_000)
            if op == "reserve":
                [shared] = store.reserve_slots("d", interval_us(rate), rate.burst)
                assert shared == pytest.approx(gcra.reserve_now("d", rate), abs=2e-6)
            else:
                store.unreserve_slot("d", interval_us(rate))
                gcra.unreserve_now("d", rate)
    finally:
        store.close()


@pytest.mark.anyio
async def test_concurrent_reservations_become_one_statement_and_queue(store_db):
    store = open_store(store_db, clock=FakeClock())
    limiter = StoreLimiter(store, BatchWriter(store))
    rate = Rate(per_second=1, burst=2)
    statements = []
    reserve_slots = store.reserve_slots

    def counted(*args):
        statements.append(args)
        return reserve_slots(*args)

    store.reserve_slots = counted  # type: ignore[method-assign]
    waits = await asyncio.gather(*(limiter.reserve("d", rate) for _ in range(20)))
    assert len(statements) == 1  # twenty reservations, one round trip
    # a burst of two, then one a second (PostgreSQL's clock moves meanwhile: a little less)
    assert waits[:2] == [0, 0]
    assert waits[2:] == pytest.approx([float(i) for i in range(1, 19)], abs=0.5)
    await limiter.unreserve("d", rate)
    [again] = await asyncio.gather(limiter.reserve("d", rate))
    assert again == pytest.approx(waits[-1], abs=0.5)  # the slot given back is taken again
    await limiter.aclose()
    store.close()


def notifier(db, **core) -> Notifier:
    config = parse_config({"notify": core}, PROVIDERS, env={})
    return Notifier(config=config, db=db, providers=PROVIDERS, env={})


@pytest.mark.anyio
async def test_the_limiter_setting_picks_the_limiter(tmp_path, redis_url):
    for setting, kind in (("store", StoreLimiter), ("local", GcraLimiter)):
        async with notifier(tmp_path / f"{setting}.db", limiter=setting) as n:
            assert isinstance(n.pipeline.runtime().dispatcher.limiter, kind)
    async with notifier(tmp_path / "r.db") as n:  # the default: shared by every process
        assert isinstance(n.pipeline.runtime().dispatcher.limiter, StoreLimiter)
    async with notifier(tmp_path / "r.db", limiter=redis_url) as n:
        limiter = n.pipeline.runtime().dispatcher.limiter
        assert isinstance(limiter, RedisLimiter)


def test_a_redis_limiter_paces_through_redis(tmp_path, redis_server, redis_url):
    with RecordingServer() as sink:
        channel = Channel(name="sink", provider="webhook", url=f"{sink.url}/hook")
        config = parse_config({"notify": {"limiter": redis_url}}, PROVIDERS, env={})
        with Notifier([channel], config=config, db=tmp_path / "n.db", env={}) as n:
            assert n.send(Message(title="x")).ok

            async def limiter() -> object:  # the runtime of the loop that sent
                return n.pipeline.runtime().dispatcher.limiter

            destination = n.pipeline.bridge.run(limiter())
            assert isinstance(destination, RedisLimiter)
    keys = redis_server.command("KEYS", "notify:rate:*")
    assert keys.startswith(b"*1")  # one destination's state, under its hash


def test_nothing_of_a_destination_is_stored_but_its_hash(tmp_path):
    from notify_core.testing import query

    with RecordingServer() as sink:
        url = f"{sink.url}/hooks/T0KEN0123456789abcdefSECRET"
        channel = Channel(name="sink", provider="webhook", url=url)
        with Notifier([channel], db=tmp_path / "n.db", env={}) as n:
            assert n.send(Message(title="x")).ok
    [row] = query(tmp_path / "n.db", "SELECT key FROM rate_limits")
    assert len(str(row["key"])) == 64 and "T0KEN" not in str(row["key"])
    assert row["key"] != hashlib.sha256(url.encode()).hexdigest()  # the destination, not the URL


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("fast", 'notify.limiter: expected "store", "local" or a redis:// URL, got \'fast\''),
        (3, "notify.limiter: expected a string, got 3"),
        (
            "memcached://:hunter2hunter2@h/0",
            'notify.limiter: expected "store", "local" or a redis:// URL, got '
            "'memcached://:***@h/0'",
        ),
    ],
)
def test_a_bad_limiter_setting_is_one_line_naming_the_key(value, problem):
    with pytest.raises(ConfigError) as raised:
        parse_config({"notify": {"limiter": value}}, PROVIDERS, source="n.toml", env={})
    assert str(raised.value) == f"n.toml: {problem}"


def test_the_environment_overrides_the_setting_and_is_checked(tmp_path):
    config = parse_config({"notify": {"limiter": "local"}}, PROVIDERS, env={})
    n = Notifier(config=config, db=tmp_path / "n.db", env={"NOTIFY_LIMITER": "store"})
    assert n.limiter_setting == "store"
    with pytest.raises(ConfigError, match="NOTIFY_LIMITER: expected"):
        Notifier(config=config, db=tmp_path / "n.db", env={"NOTIFY_LIMITER": "nope"})
