"""The SMTP exchange against real servers on 127.0.0.1: modes, AUTH, answers, reuse.

Every test talks to an aiosmtpd server over a real socket (plain, STARTTLS or implicit
TLS with a certificate from the session's test CA); nothing of aiosmtplib is mocked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest

import notify_email
from notify_core import Channel, Message, Providers
from notify_core.plugin import Outcome, SendContext
from notify_email import _smtp

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
MESSAGE = Message(title="Pipeline failed", body="stage 3 of 5", severity="error", timestamp=WHEN)
USER = "alerts@example.com"
PASSWORD = "s3cr3t:p@ss/w0rd%?"

Attempt = Callable[..., Outcome]


@pytest.mark.parametrize("mode", ["plain", "starttls", "ssl"])
def test_each_mode_delivers_the_message(mail_server: Any, attempt: Attempt, mode: str) -> None:
    server = mail_server(mode=mode)
    outcome = attempt(server.channel(), MESSAGE)
    assert outcome.status == "delivered", outcome.reason
    assert outcome.reason.startswith("SMTP 250")
    [received] = server.messages
    assert received.tls is (mode != "plain")
    assert received.mail_from == "alerts@example.com"
    assert received.rcpt_tos == ("ops@example.com",)
    assert received.message["Subject"] == "[ERROR] Pipeline failed"
    assert outcome.meta["message_id"] == received.message["Message-ID"]


def test_auth_accepted_over_starttls(mail_server: Any, attempt: Attempt) -> None:
    server = mail_server(mode="starttls", auth=True)
    outcome = attempt(server.channel(username=USER, password=PASSWORD), MESSAGE)
    assert outcome.status == "delivered", outcome.reason
    assert server.messages[0].authenticated


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_auth_accepted_over_implicit_tls(mail_server: Any, attempt: Attempt) -> None:
    server = mail_server(mode="ssl", auth=True)
    outcome = attempt(server.channel(username=USER, password=PASSWORD), MESSAGE)
    assert outcome.status == "delivered", outcome.reason
    assert server.messages[0].authenticated


def test_auth_refused_is_permanent_disables_and_never_shows_the_password(
    mail_server: Any, attempt: Attempt
) -> None:
    server = mail_server(mode="starttls", auth=True)
    outcome = attempt(server.channel(username=USER, password=PASSWORD + "-wrong"), MESSAGE)
    assert outcome.status == "failed"
    assert outcome.disables
    assert "authentication failed" in outcome.reason
    assert "535" in outcome.reason
    assert PASSWORD not in outcome.reason + outcome.response_excerpt
    assert not server.messages


def test_a_server_that_requires_auth_refuses_mail_without_it(
    mail_server: Any, attempt: Attempt
) -> None:
    server = mail_server(mode="starttls", auth=True)
    outcome = attempt(server.channel(), MESSAGE)
    assert outcome.status == "failed"
    assert outcome.reason.startswith("SMTP 530")


def test_451_is_retried_then_250_delivers(mail_server: Any, attempt: Attempt) -> None:
    server = mail_server()
    server.script("DATA", "451 4.3.0 Temporary local problem, try later")
    first = attempt(server.channel(), MESSAGE)
    assert first.status == "retry"
    assert first.reason == "SMTP 451: 4.3.0 Temporary local problem, try later"
    second = attempt(server.channel(), MESSAGE)
    assert second.status == "delivered"
    assert len(server.messages) == 1


def test_550_is_permanent_with_the_servers_words(mail_server: Any, attempt: Attempt) -> None:
    server = mail_server()
    server.script("DATA", "550 mailbox unavailable")
    outcome = attempt(server.channel(), MESSAGE)
    assert outcome.status == "failed"
    assert outcome.reason == "SMTP 550: mailbox unavailable"
    assert not outcome.disables


def test_sender_refused_is_permanent_and_counts_toward_disabling(
    mail_server: Any, attempt: Attempt
) -> None:
    server = mail_server()
    server.script("MAIL", "553 5.7.1 Sender address rejected: not owned by user")
    outcome = attempt(server.channel(), MESSAGE)
    assert outcome.status == "failed"
    assert outcome.disables
    assert "553" in outcome.reason
    assert "alerts@example.com" in outcome.reason


def test_421_service_closing_is_retried(mail_server: Any, attempt: Attempt) -> None:
    server = mail_server()
    server.script("MAIL", "421 4.7.0 Too many connections, slow down")
    outcome = attempt(server.channel(), MESSAGE)
    assert outcome.status == "retry"
    assert outcome.reason.startswith("SMTP 421")


def test_a_server_that_never_answers_times_out_as_a_retry(
    silent_port: int, attempt: Attempt
) -> None:
    channel = Channel(
        name="mail",
        provider="email",
        options={
            "host": "127.0.0.1",
            "port": silent_port,
            "mode": "plain",
            "from": "a@example.com",
            "to": "b@example.com",
        },
    )
    outcome = attempt(channel, MESSAGE, timeout=0.3)
    assert outcome.status == "retry"
    assert "timeout" in outcome.reason.lower()


def test_connection_refused_is_retried(refused_port: int, attempt: Attempt) -> None:
    channel = Channel(
        name="mail",
        provider="email",
        options={
            "host": "127.0.0.1",
            "port": refused_port,
            "mode": "plain",
            "from": "a@example.com",
            "to": "b@example.com",
        },
    )
    outcome = attempt(channel, MESSAGE)
    assert outcome.status == "retry"
    assert "connection" in outcome.reason


def test_some_recipients_refused_is_delivered_and_names_them(
    mail_server: Any, attempt: Attempt
) -> None:
    server = mail_server()
    server.refuse("gone@example.com")
    channel = server.channel(to=["ops@example.com", "gone@example.com"], bcc="audit@example.com")
    outcome = attempt(channel, MESSAGE)
    assert outcome.status == "delivered"
    assert "gone@example.com (550 5.1.1 mailbox unavailable)" in outcome.reason
    assert outcome.meta["refused"] == {"gone@example.com": "550 5.1.1 mailbox unavailable"}
    [received] = server.messages
    assert received.rcpt_tos == ("ops@example.com", "audit@example.com")


def test_every_recipient_refused_fails_or_retries_by_code(
    mail_server: Any, attempt: Attempt
) -> None:
    server = mail_server()
    server.refuse("ops@example.com")
    outcome = attempt(server.channel(), MESSAGE)
    assert outcome.status == "failed"
    assert "refused every recipient" in outcome.reason
    server.refuse("ops@example.com", "450 4.2.1 mailbox busy")
    assert attempt(server.channel(), MESSAGE).status == "retry"
    assert not server.messages


def test_bcc_is_in_the_envelope_and_never_a_header(mail_server: Any, attempt: Attempt) -> None:
    server = mail_server()
    channel = server.channel(cc="lead@example.com", bcc=["audit@example.com"])
    assert attempt(channel, MESSAGE).status == "delivered"
    [received] = server.messages
    assert received.rcpt_tos == ("ops@example.com", "lead@example.com", "audit@example.com")
    assert received.message["Bcc"] is None
    assert b"audit@example.com" not in received.data


def test_an_untrusted_certificate_fails_permanently(
    mail_server: Any, attempt: Attempt, tls: Any
) -> None:
    for mode in ("starttls", "ssl"):
        server = mail_server(mode=mode)
        outcome = attempt(server.channel(ca_file=tls.other_ca_file), MESSAGE)
        assert outcome.status == "failed", (mode, outcome.reason)
        assert "did not verify" in outcome.reason
        assert "ca_file" in outcome.reason
        assert not server.messages


def test_an_unreadable_ca_file_fails_permanently_naming_it(
    mail_server: Any, attempt: Attempt, tmp_path: Any
) -> None:
    server = mail_server(mode="starttls")
    missing = str(tmp_path / "missing-ca.pem")
    outcome = attempt(server.channel(ca_file=missing), MESSAGE)
    assert outcome.status == "failed"
    assert outcome.reason == f"ca_file {missing} cannot be used: No such file or directory"
    (tmp_path / "junk.pem").write_text("not a certificate")
    outcome = attempt(server.channel(ca_file=str(tmp_path / "junk.pem")), MESSAGE)
    assert outcome.status == "failed"
    assert "cannot be used" in outcome.reason


def test_verify_tls_false_accepts_an_untrusted_certificate(
    mail_server: Any, attempt: Attempt, tls: Any
) -> None:
    server = mail_server(mode="starttls")
    channel = server.channel(ca_file=None)
    channel = Channel(name="mail", provider="email", options=channel.options, verify_tls=False)
    assert attempt(channel, MESSAGE).status == "delivered"


def test_starttls_mode_refuses_a_server_without_starttls(
    mail_server: Any, attempt: Attempt
) -> None:
    server = mail_server(mode="plain")
    outcome = attempt(server.channel(mode="starttls", ca_file=server.ca_file), MESSAGE)
    assert outcome.status == "failed"
    assert "STARTTLS" in outcome.reason
    assert not server.messages


def test_a_server_without_8bitmime_gets_a_7bit_message(mail_server: Any, attempt: Attempt) -> None:
    server = mail_server()
    server.handler.without_8bitmime = True
    message = Message(title="Ünïcödé ✓ 日本語", body="héllo — ✓", timestamp=WHEN)
    assert attempt(server.channel(), message).status == "delivered"
    [received] = server.messages
    assert received.data.isascii()
    assert "BODY=8BITMIME" not in received.mail_options
    text, html = (p.get_content() for p in received.message.iter_parts())
    assert "héllo — ✓" in text
    assert "Ünïcödé ✓ 日本語" in html


def test_8bit_is_announced_when_the_server_takes_it(mail_server: Any, attempt: Attempt) -> None:
    server = mail_server()
    assert attempt(server.channel(), Message(title="✓", timestamp=WHEN)).status == "delivered"
    assert "BODY=8BITMIME" in server.messages[0].mail_options
    assert any(o.startswith("SIZE=") for o in server.messages[0].mail_options)


def test_a_server_echoing_the_password_has_it_masked(mail_server: Any, attempt: Attempt) -> None:
    server = mail_server(mode="starttls", auth=True)
    server.script("DATA", f"554 5.7.1 rejected for {USER}:{PASSWORD}")
    outcome = attempt(server.channel(username=USER, password=PASSWORD), MESSAGE)
    assert outcome.status == "failed"
    assert PASSWORD not in outcome.reason
    assert "****" in outcome.reason


# -- connection reuse -------------------------------------------------------------------


def _send_many(
    providers: Providers, channel: Channel, count: int, *, concurrency: int = 1
) -> tuple[list[Outcome], int]:
    """``count`` sends on one loop; the outcomes and how many connections were opened."""
    target = providers.validate(channel)

    async def go() -> tuple[list[Outcome], int]:
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> Outcome:
            payload = providers.build(channel, MESSAGE, f"dly_{i}")
            context = SendContext(delivery_id=f"dly_{i}", attempt=1, timeout=5.0, target=target)
            async with gate:
                return await providers.send(channel, payload, context, None)  # type: ignore[arg-type]

        try:
            outcomes = await asyncio.gather(*(one(i) for i in range(count)))
            return list(outcomes), _smtp.pool().opened
        finally:
            await notify_email.close_transports()

    return asyncio.run(go())


def test_a_burst_reuses_one_connection(mail_server: Any, providers: Providers) -> None:
    server = mail_server(mode="starttls", auth=True)
    channel = server.channel(username=USER, password=PASSWORD)
    outcomes, opened = _send_many(providers, channel, 5)
    assert [o.status for o in outcomes] == ["delivered"] * 5
    assert opened == 1
    assert len(server.handler.sessions) == 1
    assert len(server.messages) == 5
    assert len({m.message["Message-ID"] for m in server.messages}) == 5


def test_concurrent_sends_use_a_few_connections_one_message_at_a_time(
    mail_server: Any, providers: Providers
) -> None:
    server = mail_server()
    outcomes, opened = _send_many(providers, server.channel(), 20, concurrency=8)
    assert all(o.status == "delivered" for o in outcomes)
    assert 1 <= opened <= _smtp.MAX_CONNECTIONS
    assert len(server.messages) == 20


def test_different_accounts_do_not_share_a_connection(
    mail_server: Any, providers: Providers
) -> None:
    server = mail_server()

    async def go() -> int:
        for sender in ("a@example.com", "b@example.com"):  # same server and account
            channel = server.channel(**{"from": sender})
            payload = providers.build(channel, MESSAGE, "d")
            target = providers.validate(channel)
            context = SendContext(delivery_id="d", attempt=1, timeout=5.0, target=target)
            await providers.send(channel, payload, context, None)  # type: ignore[arg-type]
        other = mail_server()
        channel = other.channel()
        context = SendContext(
            delivery_id="d", attempt=1, timeout=5.0, target=providers.validate(channel)
        )
        await providers.send(channel, providers.build(channel, MESSAGE, "d"), context, None)  # type: ignore[arg-type]
        opened = _smtp.pool().opened
        await notify_email.close_transports()
        return opened

    assert asyncio.run(go()) == 2  # one per server: the sender is not part of the session


def test_an_errored_connection_is_dropped(mail_server: Any, providers: Providers) -> None:
    server = mail_server()
    server.script("DATA", "451 4.3.0 try later")
    outcomes, opened = _send_many(providers, server.channel(), 2)
    assert [o.status for o in outcomes] == ["retry", "delivered"]
    assert opened == 2
    assert len(server.handler.sessions) == 2


def test_a_connection_closed_by_the_server_while_idle_is_replaced(
    mail_server: Any, providers: Providers
) -> None:
    server = mail_server()
    channel = server.channel()
    target = providers.validate(channel)

    async def go() -> list[str]:
        statuses = []
        for i in range(2):
            context = SendContext(delivery_id=f"d{i}", attempt=1, timeout=5.0, target=target)
            payload = providers.build(channel, MESSAGE, f"d{i}")
            statuses.append((await providers.send(channel, payload, context, None)).status)  # type: ignore[arg-type]
            if i == 0:  # the server hangs up on the idle connection behind our back
                [conn] = [c for conns in _smtp.pool()._idle.values() for c in conns]
                assert conn.smtp.transport is not None
                sock = conn.smtp.transport.get_extra_info("socket")
                sock.shutdown(2) if sock is not None else None
                await asyncio.sleep(0)  # let the loop see the connection end
        await notify_email.close_transports()
        return statuses

    assert asyncio.run(go()) == ["delivered", "delivered"]
    assert len(server.messages) == 2


def test_a_stale_connection_found_at_mail_from_is_replaced_within_the_attempt(
    mail_server: Any, providers: Providers
) -> None:
    """The server hung up but this loop has not noticed yet: MAIL FROM finds out."""
    server = mail_server()
    channel = server.channel()
    target = providers.validate(channel)

    async def go() -> tuple[list[str], int]:
        statuses = []
        for i in range(2):
            if i == 1:
                server.hang_up()  # blocks this loop: it cannot see the hang-up before MAIL
                [conn] = [c for conns in _smtp.pool()._idle.values() for c in conns]
                assert conn.usable
            context = SendContext(delivery_id=f"d{i}", attempt=1, timeout=5.0, target=target)
            payload = providers.build(channel, MESSAGE, f"d{i}")
            statuses.append((await providers.send(channel, payload, context, None)).status)  # type: ignore[arg-type]
        opened = _smtp.pool().opened
        await notify_email.close_transports()
        return statuses, opened

    assert asyncio.run(go()) == (["delivered", "delivered"], 2)
    assert len(server.messages) == 2


def test_idle_connections_are_closed_after_the_idle_time(
    mail_server: Any, providers: Providers
) -> None:
    server = mail_server()
    channel = server.channel()
    target = providers.validate(channel)

    async def go() -> tuple[int, int, int]:
        context = SendContext(delivery_id="d", attempt=1, timeout=5.0, target=target)
        await providers.send(channel, providers.build(channel, MESSAGE, "d"), context, None)  # type: ignore[arg-type]
        pool = _smtp.pool()
        before = pool.idle_count
        early = pool.reap(pool.loop.time() + pool.idle / 2)
        late = pool.reap(pool.loop.time() + pool.idle + 1)
        await notify_email.close_transports()
        return before, early, late

    assert asyncio.run(go()) == (1, 0, 1)


def test_close_transports_quits_every_pooled_connection(
    mail_server: Any, providers: Providers
) -> None:
    server = mail_server()
    channel = server.channel()
    target = providers.validate(channel)

    async def go() -> tuple[int, bool]:
        context = SendContext(delivery_id="d", attempt=1, timeout=5.0, target=target)
        await providers.send(channel, providers.build(channel, MESSAGE, "d"), context, None)  # type: ignore[arg-type]
        pool = _smtp.pool()
        [conn] = [c for conns in pool._idle.values() for c in conns]
        coroutine = notify_email.close_transports()
        assert asyncio.iscoroutine(coroutine)
        await coroutine
        return pool.idle_count, conn.smtp.is_connected

    assert asyncio.run(go()) == (0, False)


def test_pools_of_closed_loops_are_dropped() -> None:
    async def make() -> _smtp.Pool:
        return _smtp.pool()

    first = asyncio.run(make())
    assert first.loop.is_closed()
    second = asyncio.run(make())
    assert first.loop not in _smtp._pools
    assert second.loop in _smtp._pools
