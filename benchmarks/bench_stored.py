"""What stored channels cost the router: a cached lookup, and a reload after a change.

    python benchmarks/bench_stored.py            # 500 stored channels over 100 tenants
    python benchmarks/bench_stored.py --quick    # 100 over 20

A real SQLite file in a temporary folder; every channel a webhook with a secret URL and
a bearer token, encrypted with Fernet. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

from cryptography.fernet import Fernet

from notify_core import Message, Notifier, Providers, parse_config


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    channels, tenants = (100, 20) if args.quick else (500, 100)
    env = {"NOTIFY_SECRET_KEY": Fernet.generate_key().decode()}
    print(f"python {platform.python_version()}, {os.cpu_count()} cpus; {channels} stored channels")
    with tempfile.TemporaryDirectory() as folder:
        db = os.path.join(folder, "notify.db")
        with Notifier(db=db, env=env, wait=0) as notifier:
            manager = notifier.stored_channels
            started = time.perf_counter()
            for i in range(channels):
                manager.add(
                    f"hook{i}",
                    {
                        "provider": "webhook",
                        "url": f"https://example.com/hook/{i}?token=secret{i:020d}",
                        "events": ["training.*"],
                        "settings": {"auth": {"type": "bearer", "token": f"bearer{i:020d}"}},
                    },
                    tenant=f"t{i % tenants}",
                    actor="bench",
                )
            took = time.perf_counter() - started
            print(f"add (validate, encrypt, insert + audit): {channels / took:,.0f} channels/s")

        message = Message(title="x", event="training.failed")
        with Notifier(db=db, env=env, wait=0) as notifier:
            started = time.perf_counter()
            notifier.route(message, tenant="t1")  # the first lookup reads and decrypts all
            cold = time.perf_counter() - started
            print(f"first routing (read + decrypt {channels}): {cold * 1000:.1f} ms")
            n = 20_000
            started = time.perf_counter()
            for i in range(n):
                notifier.route(message, tenant=f"t{i % tenants}")
            warm = (time.perf_counter() - started) / n
            print(f"routing, cache valid: {warm * 1e6:.1f} µs per message")
            with Notifier(db=db, env=env, wait=0) as other:  # another process's edit
                other.stored_channels.edit("hook0", {"events": ["deploy.*"]}, tenant="t0")
            started = time.perf_counter()
            notifier.route(message, tenant="t0")
            reload = time.perf_counter() - started
            print(f"routing after another connection's edit (reload): {reload * 1000:.1f} ms")

        # the same channels configured in notify.toml's [tenants.*] instead: the baseline
        table = {
            f"t{t}": {
                "channels": {
                    f"hook{i}": {
                        "provider": "webhook",
                        "url": f"https://example.com/hook/{i}",
                        "events": ["training.*"],
                    }
                    for i in range(t, channels, tenants)
                }
            }
            for t in range(tenants)
        }
        providers = Providers.discover()
        config = parse_config({"tenants": table}, providers)
        bare = Notifier(config=config, providers=providers, db=os.path.join(folder, "none.db"))
        started = time.perf_counter()
        for i in range(n):
            bare.route(message, tenant=f"t{i % tenants}")
        print(
            f"routing, the same channels configured in notify.toml: "
            f"{(time.perf_counter() - started) / n * 1e6:.1f} µs per message"
        )
        bare.close()


if __name__ == "__main__":
    main()
