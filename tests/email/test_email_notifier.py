"""The e-mail provider inside the whole pipeline: outbox, retries, attempt log, health.

The core keeps queueing, retries and records while the plugin owns SMTP: a 451 is
retried by the core (backoff 0, so nothing waits on the wall clock) and delivered on
the second attempt, both attempts logged with the server's words; a refused login
counts toward auto-disabling the channel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

import notify_email
from notify_core import Config, Message, Notifier, Providers, Rate, RetryPolicy
from notify_core.testing import query, stored_bytes

USER = "alerts@example.com"  # the account conftest's servers accept
PASSWORD = "s3cr3t:p@ss/w0rd%?"
FAST = RetryPolicy(attempts=3, backoff=0, max_delay=0)
UNLIMITED = Rate(per_second=1000, burst=1000)


@pytest.mark.anyio
async def test_a_451_is_retried_by_the_core_and_every_attempt_is_logged(
    mail_server: Any, providers: Providers, tmp_path: Path
) -> None:
    server = mail_server(mode="starttls", auth=True)
    server.script("DATA", "451 4.7.1 greylisted, come back later")
    channel = attrs.evolve(
        server.channel(username=USER, password=PASSWORD), retry=FAST, rate=UNLIMITED
    )
    db = tmp_path / "n.db"
    async with Notifier([channel], providers=providers, db=db, env={}) as notifier:
        result = await notifier.asend(Message(title="Backup done"), to=["mail"], wait=10)
        await notify_email.close_transports()  # what the core's hook will do on close
    [delivery] = result.deliveries
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    attempts = query(db, "SELECT number, outcome, error FROM attempts ORDER BY number")
    assert attempts == [
        {"number": 1, "outcome": "retry", "error": "SMTP 451: 4.7.1 greylisted, come back later"},
        {"number": 2, "outcome": "delivered", "error": "SMTP 250: 2.0.0 OK: queued as Q1"},
    ]
    [row] = query(db, "SELECT target, meta FROM deliveries")
    assert row["target"] == f"127.0.0.1:{server.port} starttls as {USER} to ops@example.com"
    assert server.messages[0].message["Message-ID"] in str(row["meta"])
    assert PASSWORD.encode() not in stored_bytes(db)


@pytest.mark.anyio
async def test_a_refused_login_counts_toward_auto_disabling_the_channel(
    mail_server: Any, providers: Providers, tmp_path: Path
) -> None:
    server = mail_server(mode="starttls", auth=True)
    channel = attrs.evolve(
        server.channel(username=USER, password="not-the-password"), retry=FAST, rate=UNLIMITED
    )
    db = tmp_path / "n.db"
    config = Config(auto_disable_after=2)
    async with Notifier([channel], config=config, providers=providers, db=db, env={}) as n:
        outcomes = [await n.asend(Message(title=f"m{i}"), to=["mail"], wait=10) for i in (1, 2)]
        await notify_email.close_transports()
    assert [r.deliveries[0].status for r in outcomes] == ["failed", "failed"]
    assert outcomes[0].deliveries[0].attempts == 1  # permanent: never retried
    assert "authentication failed" in outcomes[0].deliveries[0].reason
    [state] = query(db, "SELECT consecutive_failures, auto_disabled, last_error FROM channel_state")
    assert (state["consecutive_failures"], state["auto_disabled"]) == (2, 1)
    assert "check username and password" in str(state["last_error"])
    assert not server.messages
