"""What the store calls of threads, groups and idempotency keys cost on each backend, and
what the migration that brings an older PostgreSQL store up to date costs.

    python benchmarks/bench_pg_store.py            # 2,000 calls per case, 200,000 rows
    python benchmarks/bench_pg_store.py --quick    # 300 calls, 20,000 rows

Each case runs one store call (or the calls one pipeline step makes, in one transaction
as the batch writer would) many times on a fresh SQLite file and on a fresh database of
a throw-away PostgreSQL (the test kit's :class:`~notify_core.testing.PostgresServer`,
durability off: this measures notify's SQL and round trips, not the disk). The migration
case fills a schema-3 database (before threads and groups) and times ``open_store``,
which adds the ``arrival`` column (a rewrite of ``deliveries``) and the later tables.

Figures are printed, never asserted: this machine's load changes them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from notify_core._store import (
    GroupSettlement,
    NewDelivery,
    NewGroup,
    NewGroupItem,
    Store,
    new_id,
    open_store,
)
from notify_core._store._pg_schema import MIGRATIONS
from notify_core.testing import PostgresServer


def delivery(ident: str, thread_key: str | None = None) -> NewDelivery:
    return NewDelivery(
        id=ident, message_id="m", event="e", severity="info", tenant=None, channel="chat",
        provider="webhook", target="t", message="{}", payload="{}", status="sending",
        thread_key=thread_key,
    )  # fmt: skip


def group(n: int) -> NewGroup:
    return NewGroup(
        id=f"g{n}", kind="group", channel="ops", tenant=None, provider="webhook",
        key=f"ops{{n={n}}}", labels="{}",
    )  # fmt: skip


def per_call(count: int, step: Callable[[int], object]) -> float:
    """Microseconds per ``step(i)``, for i in range(count)."""
    began = time.perf_counter()
    for i in range(count):
        step(i)
    return (time.perf_counter() - began) / count * 1e6


def cases(store: Store, count: int) -> dict[str, float]:
    out: dict[str, float] = {}
    store.add([delivery(f"t{i}", thread_key=f"k{i}") for i in range(count)], owner="w")

    def start_thread(i: int) -> None:  # the first message of a thread: turn, then its ts
        with store.transaction():
            assert store.enter_thread(f"t{i}", "chat", None, f"k{i}").step == "start"
            store.keep_thread("chat", None, f"k{i}", {"ts": str(i)})

    out["thread: start it (enter_thread + keep_thread)"] = per_call(count, start_thread)
    out["thread: join it (enter_thread)"] = per_call(
        count, lambda i: store.enter_thread(f"t{i}", "chat", None, f"k{i}")
    )

    def idempotent(i: int) -> None:  # a request with a key, answered
        with store.transaction():
            assert store.idempotency_claim(f"key{i}", "fp", stale_after=60) is None
            store.idempotency_complete(f"key{i}", status=202, answer="{}")

    out["idempotency key: claim + answer"] = per_call(count, idempotent)
    out["idempotency key: a repeat"] = per_call(
        count, lambda i: store.idempotency_claim(f"key{i}", "fp", stale_after=60)
    )
    groups = max(1, count // 10)

    def add_item(i: int) -> None:  # a message joining one of the groups
        with store.transaction():
            row = store.upsert_group(group(i % groups))
            store.group_item(row.id, f"d{i}")
            item = NewGroupItem(
                group_id=row.id, dedup_key=f"d{i}", delivery_id=f"x{i}", message_id="m",
                severity="info", state="firing", message="{}",
            )  # fmt: skip
            store.put_group_item(item, changed=True)
            store.set_group_due(row.id, 0.0)

    out["group: add a message"] = per_call(count, add_item)

    def flush(i: int) -> None:  # a worker claiming due groups and settling one
        claimed = store.claim_groups("w", limit=1, lease=60)
        if not claimed:
            return
        items = store.group_items(claimed[0].id)
        summary = delivery(new_id(time.time()))
        settlement = GroupSettlement(
            group_id=claimed[0].id, owner="w", summary=summary,
            sent=[(it.dedup_key, it.delivery_id) for it in items], due_quiet=None,
        )  # fmt: skip
        store.settle_group(settlement)

    out[f"group: claim + settle ({count // groups} items)"] = per_call(groups, flush)
    return out


def migration(server: PostgresServer, rows: int) -> float:
    """Seconds for ``open_store`` to migrate a schema-3 database holding ``rows`` deliveries."""
    url = server.create_database("bench_migration")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for version in (1, 2, 3):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (3)")
        conn.execute(
            "INSERT INTO deliveries (id, message_id, created, updated, channel, provider,"
            " target, message, payload, status) SELECT lpad(to_hex(n), 21, '0'), 'm', n, n,"
            " 'chat', 'webhook', 'https://example.com/****', repeat('x', 800),"
            " repeat('y', 800), 'delivered' FROM generate_series(1, %s) AS n",
            (rows,),
        )
        conn.execute("VACUUM ANALYZE deliveries")
    began = time.perf_counter()
    open_store(url).close()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    args = parser.parse_args()
    count, rows = (300, 20_000) if args.quick else (2_000, 200_000)
    with PostgresServer() as server, tempfile.TemporaryDirectory() as tmp:
        results: dict[str, dict[str, float]] = {}
        for name, location in (
            ("SQLite", str(Path(tmp) / "bench.db")),
            ("PostgreSQL", server.create_database("bench_calls")),
        ):
            store = open_store(location)
            try:
                results[name] = cases(store, count)
            finally:
                store.close()
        print(f"{count} calls per case; µs per call (one transaction per step)")
        width = max(len(k) for k in results["SQLite"])
        print(f"{'case':<{width}}  {'SQLite':>9}  {'PostgreSQL':>10}")
        for case, lite in results["SQLite"].items():
            print(f"{case:<{width}}  {lite:>9.0f}  {results['PostgreSQL'][case]:>10.0f}")
        seconds = migration(server, rows)
        print(f"migrating a schema-3 PostgreSQL store of {rows:,} deliveries: {seconds:.2f} s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
