"""notify-email against the provider contract every notify plugin must pass.

Two of the kit's tests speak HTTP and cannot apply to a provider whose transport is
SMTP; this class replaces them, without touching the kit:

* ``test_classifies_answers`` scripts HTTP answers (200, 400, 429 with ``Retry-After``,
  5xx) on the kit's HTTP recorder and counts HTTP requests; an SMTP provider makes
  none, and those statuses have no SMTP meaning. The replacement runs the same
  check, one attempt read as delivered/retry/failed with exactly one transaction and
  no sleeping, against SMTP replies from a real aiosmtpd server.
* ``test_never_leaks_a_secret`` needs the channel's destination rerouted to a local
  server, and the core's reroute seam (``reroute=``/``NOTIFY_REROUTE``) only acts on
  HTTP requests. The replacement runs the kit's own ``check_no_secret_leaks``,
  unchanged, on the documented examples pointed at a local STARTTLS server with
  AUTH, whose second answer echoes the password.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attrs
import pytest

import notify_email
from notify_core import Channel, Message, Providers
from notify_core.plugin import Outcome, Payload, SendContext
from notify_core.testing import Example, ProviderContract, RecordingServer, reference_messages
from notify_core.testing._contract import check_no_secret_leaks

USER = "alerts@example.com"  # the account conftest's servers accept
PASSWORD = "s3cr3t:p@ss/w0rd%?"
ENCODED = quote(PASSWORD, safe="")
URL = f"mailto://alerts%40example.com:{ENCODED}@smtp.example.com:587?to=ops@example.com"
KEYS = {
    "host": "smtp.example.com",
    "username": USER,
    "password": PASSWORD,
    "from": "Alerts <alerts@example.com>",
    "to": ["ops@example.com"],
}

#: SMTP replies by kind, and how one attempt must read them.
SMTP_ANSWERS: dict[str, tuple[str, list[tuple[str | None, str | None]]]] = {
    "success": ("delivered", [(None, None)]),
    "permanent refusal (5xx)": (
        "failed",
        [
            ("DATA", "554 5.7.1 message refused as spam"),
            ("MAIL", "550 5.7.1 relaying denied"),
            ("RCPT", "550 5.1.1 no such user"),
        ],
    ),
    "transient refusal (4xx)": (
        "retry",
        [
            ("DATA", "451 4.3.0 local error in processing"),
            ("RCPT", "450 4.2.1 mailbox busy"),
            ("MAIL", "452 4.3.1 insufficient system storage"),
        ],
    ),
    "rate limited": (
        "retry",
        [("MAIL", "421 4.7.0 too many messages, slow down"), ("DATA", "450 4.7.1 rate limited")],
    ),
}


class TestEmailContract(ProviderContract):
    plugin = notify_email
    provider = "email"
    valid = (
        Example(URL, secrets=(PASSWORD, ENCODED)),
        Example(
            "mailtos://alerts%40example.com:" + ENCODED + "@smtp.example.com"
            "?to=ops@example.com,dev@example.com&cc=lead@example.com&name=CI",
            secrets=(PASSWORD, ENCODED),
        ),
        Example(options=KEYS, secrets=(PASSWORD,)),
        Example(
            options={**KEYS, "port": 2525, "mode": "ssl", "ca_file": "/etc/ssl/private-ca.pem"},
            secrets=(PASSWORD,),
        ),
        Example(
            options={"host": "relay.internal", "mode": "plain", "from": "a@x.org", "to": "b@x.org"}
        ),
    )
    invalid = (
        Example("https://smtp.example.com/?to=ops@example.com", why="not mailto://"),
        Example("mailto:ops@example.com", why="no SMTP server"),
        Example(URL + "&subject=hi", secrets=(PASSWORD, ENCODED), why="unknown parameter"),
        Example(
            URL.replace("?to=", "?mode=plain&to="), secrets=(PASSWORD,), why="password in clear"
        ),
        Example(options={**KEYS, "to": "nobody"}, key="to", secrets=(PASSWORD,)),
        Example(
            options={**KEYS, "from": "a@example.com\r\nBcc: x@y.org"},
            key="from",
            secrets=(PASSWORD,),
        ),
        Example(options={**KEYS, "cc": ["ok@example.com", "bad@"]}, key="cc", secrets=(PASSWORD,)),
        Example(options={**KEYS, "mode": "tls"}, key="mode", secrets=(PASSWORD,)),
        Example(options={**KEYS, "port": 70000}, key="port", secrets=(PASSWORD,)),
        Example(options={**KEYS, "host": None}, key="host", secrets=(PASSWORD,)),
        Example(options={**KEYS, "username": None}, key="password", secrets=(PASSWORD,)),
        Example(
            options=KEYS, settings={"subject": "x"}, key="settings.subject", secrets=(PASSWORD,)
        ),
    )

    def make_channel(self, example: Example) -> Channel:
        options = {k: v for k, v in example.options.items() if v is not None}
        return attrs.evolve(super().make_channel(example), options=options)

    def assert_within_limits(self, payload: Payload, message: Message, label: str) -> None:
        body = payload.body
        assert set(body) == {"envelope", "subject", "message_id", "mime"}
        assert all(len(line.encode()) <= 998 for line in body["mime"]), label
        assert len(body["subject"]) <= notify_email.SPEC.limits["subject_title_chars"] + 20

    # -- the kit's HTTP-only tests, in SMTP's dialect -------------------------------------

    @pytest.fixture(autouse=True)
    def _smtp(self, mail_server: Any) -> None:
        self.mail_server = mail_server

    def _local(self, example: Example, server: Any) -> Channel:
        """The example's channel, aimed at ``server`` (a STARTTLS server with AUTH)."""
        channel = self.make_channel(example)
        if channel.url:
            here = f"127.0.0.1:{server.port}"
            url = channel.url.replace("smtp.example.com:587", here).replace(
                "mailtos://", "mailto://"
            )
            url = url.replace("smtp.example.com", here) + f"&mode=starttls&ca_file={server.ca_file}"
            return attrs.evolve(channel, url=url)
        options = {**channel.options, "host": "127.0.0.1", "port": server.port}
        options.update(mode="starttls", ca_file=server.ca_file)
        return attrs.evolve(channel, options=options)

    @pytest.mark.parametrize("kind", list(SMTP_ANSWERS))
    def test_classifies_answers(self, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
        expect, cases = SMTP_ANSWERS[kind]
        server = self.mail_server(mode="starttls", auth=True)
        providers = Providers()
        providers.register(notify_email, name="email")
        channel = self._local(as_example(self.valid[0]), server)
        slept: list[str] = []
        watching = [False]  # only while send runs: closing the pool may wait for TLS
        real_sleep = asyncio.sleep

        async def watch_sleep(delay: float, *args: Any) -> Any:
            if delay > 0 and watching[0]:
                slept.append(f"asyncio.sleep({delay})")
            return await real_sleep(delay, *args)

        def watch_time_sleep(seconds: float) -> None:
            if watching[0]:
                slept.append(f"time.sleep({seconds})")

        monkeypatch.setattr(asyncio, "sleep", watch_sleep)
        monkeypatch.setattr(time, "sleep", watch_time_sleep)
        for command, reply in cases:
            if command is not None:
                server.script(command, reply)
            before = server.handler.mail_commands
            outcome = _one_attempt(providers, channel, watching)
            made = server.handler.mail_commands - before
            assert made == 1, f"{reply!r}: {made} transactions for one attempt"
            assert outcome.status == expect, f"{reply!r} read as {outcome.status}: {outcome.reason}"
            assert not slept, f"send slept: {slept}"
            if reply:
                assert reply.split()[0] in outcome.reason  # the server's code, and its words
                assert " ".join(reply.split()[1:]) in outcome.reason

    def test_authentication_refused_is_permanent_and_disables(self) -> None:
        server = self.mail_server(mode="starttls", auth=True)
        providers = Providers()
        providers.register(notify_email, name="email")
        example = Example(options={**KEYS, "password": "wrong-password-here"})
        outcome = _one_attempt(providers, self._local(example, server))
        assert (outcome.status, outcome.disables) == ("failed", True)
        assert server.handler.mail_commands == 0

    def test_never_leaks_a_secret(self, recorder: RecordingServer, tmp_path: Path) -> None:
        for i, example in enumerate(as_example(v) for v in self.valid):
            if not example.secrets:
                continue
            server = self.mail_server(mode="starttls", auth=True)
            # the kit's second send is a failure whose text echoes the secrets
            server.script("DATA", None, f"554 5.7.1 rejected {USER}:{PASSWORD} {ENCODED}")
            check_no_secret_leaks(
                self.plugin,
                self._local(example, server),
                example,
                recorder,
                tmp_path / f"contract-{i}.db",
                name=self.provider,
                success=self.success_answers[0],
            )
            assert len(server.messages) == 1  # delivered for real, then refused


def as_example(value: Example | str) -> Example:
    return value if isinstance(value, Example) else Example(url=value)


def _one_attempt(
    providers: Providers, channel: Channel, watching: list[bool] | None = None
) -> Outcome:
    target = providers.validate(channel)
    payload = providers.build(channel, reference_messages()["small"], "dly_contract_0001")
    context = SendContext(delivery_id="dly_contract_0001", attempt=1, timeout=5.0, target=target)

    async def go() -> Outcome:
        flag = watching if watching is not None else [False]
        flag[0] = True
        try:
            return await providers.send(channel, payload, context, None)  # type: ignore[arg-type]
        finally:
            flag[0] = False
            await notify_email.close_transports()

    return asyncio.run(go())
