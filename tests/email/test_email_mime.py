"""The message as received: parts, headers, threads, escaping, and no injected header.

Most tests send through a real SMTP server on 127.0.0.1 and parse what it received with
Python's ``email`` parser, so they check what a mail client would see, not what we
meant to build. The golden files pin the payload (envelope and whole MIME text).
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notify_core import Action, Channel, Field, Message, Providers
from notify_core.plugin import MARKER, Outcome
from notify_core.testing import check_golden

GOLDEN = Path(__file__).parent / "golden"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
OPTIONS = {
    "host": "smtp.example.com",
    "from": "Notify Alerts <alerts@example.com>",
    "to": ["Ops <ops@example.com>", "dev@example.com"],
    "cc": "lead@example.com",
    "bcc": "audit@example.com",
    "reply_to": "help@example.com",
    "username": "alerts@example.com",
    "password": "hunter2-but-longer",
}
CHANNEL = Channel(name="ml-mail", provider="email", options=OPTIONS)
#: Every header a message of this channel carries; nothing else may appear.
HEADERS = {
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
    "X-Notify-Delivery",
    "X-Notify-Severity",
    "MIME-Version",
    "Content-Type",
}
THREAD = {"In-Reply-To", "References"}


def parse(lines: list[str]) -> EmailMessage:
    parsed = email.message_from_string("\n".join(lines) + "\n", policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def built(providers: Providers, message: Message, delivery_id: str = "dly_1", **kw: Any) -> Any:
    channel = Channel(name=kw.pop("name", "ml-mail"), provider="email", options={**OPTIONS, **kw})
    return providers.build(channel, message, delivery_id).body


def parts(msg: EmailMessage) -> tuple[str, str]:
    text, html = msg.iter_parts()
    return str(text.get_content()), str(html.get_content())


Send = Callable[[Message], EmailMessage]


@pytest.fixture
def send(mail_server: Any, attempt: Callable[..., Outcome]) -> Send:
    """Deliver one message through a real server and parse what it received."""
    server = mail_server()
    sent = 0

    def go(message: Message, **keys: Any) -> EmailMessage:
        nonlocal sent
        sent += 1
        channel = server.channel(**keys)
        outcome = attempt(channel, message, delivery_id=f"dly_{sent}")
        assert outcome.status == "delivered", outcome.reason
        return server.messages[-1].message  # type: ignore[no-any-return]

    return go


# -- structure and headers ------------------------------------------------------------------


def test_multipart_alternative_text_then_html(send: Send) -> None:
    msg = send(Message(title="Backup done", body="42 GB in 3 min", timestamp=WHEN))
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    text, html = parts(msg)
    assert text.startswith("[INFO] Backup done\n\n42 GB in 3 min\n")
    assert "42 GB in 3 min" in html
    assert all(p.get_content_charset() == "utf-8" for p in msg.iter_parts())


def test_headers_name_everyone_but_bcc(providers: Providers) -> None:
    body = built(providers, Message(title="t", timestamp=WHEN))
    msg = parse(body["mime"])
    assert set(msg.keys()) == HEADERS
    assert msg["From"] == "Notify Alerts <alerts@example.com>"
    assert msg["To"] == "Ops <ops@example.com>, dev@example.com"
    assert msg["Cc"] == "lead@example.com"
    assert msg["Reply-To"] == "help@example.com"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert "audit@example.com" not in "\n".join(body["mime"])
    assert body["envelope"] == {
        "mail_from": "alerts@example.com",
        "rcpt_to": ["ops@example.com", "dev@example.com", "lead@example.com", "audit@example.com"],
    }


def test_only_bcc_recipients_say_undisclosed_recipients(providers: Providers) -> None:
    body = built(providers, Message(title="t", timestamp=WHEN), to=None, cc=None)
    assert parse(body["mime"])["To"] == "undisclosed-recipients:;"


@pytest.mark.parametrize(
    ("message", "subject"),
    [
        (Message(title="Pipeline failed", severity="error"), "[ERROR] Pipeline failed"),
        (Message(title="Backup done"), "[INFO] Backup done"),
        (Message(title="GPU hot", severity="warning"), "[WARNING] GPU hot"),
        (Message(title="DB down", severity="critical"), "[CRITICAL] DB down"),
        (Message(title="Disk full", severity="error", state="resolve"), "[RESOLVED] Disk full"),
        (Message(title="Disk full", state="acknowledge"), "[ACKNOWLEDGED] Disk full"),
        (Message(title="", event="backup.done"), "[INFO] backup.done"),
        (Message(title=""), "[INFO] Notification"),
    ],
)
def test_subject_carries_a_severity_marker(
    providers: Providers, message: Message, subject: str
) -> None:
    body = built(providers, message)
    assert body["subject"] == subject
    assert parse(body["mime"])["Subject"] == subject


def test_date_is_the_message_time_and_message_id_the_delivery(providers: Providers) -> None:
    body = built(providers, Message(title="t", timestamp=WHEN), "0195abcdef0123456789")
    msg = parse(body["mime"])
    assert msg["Date"] == "Fri, 02 Jan 2026 03:04:05 +0000"
    assert msg["Message-ID"] == "<0195abcdef0123456789.notify@example.com>"
    assert body["message_id"] == msg["Message-ID"]
    later = Message(title="t", timestamp=WHEN.astimezone(timezone(timedelta(hours=2))))
    assert parse(built(providers, later)["mime"])["Date"] == "Fri, 02 Jan 2026 05:04:05 +0200"
    naive = Message(title="t", timestamp=WHEN.replace(tzinfo=None))
    assert parse(built(providers, naive)["mime"])["Date"] == "Fri, 02 Jan 2026 03:04:05 +0000"


def test_a_retry_builds_the_same_message_and_another_delivery_another_id(
    providers: Providers,
) -> None:
    message = Message(title="t", body="b", timestamp=WHEN)
    assert built(providers, message, "dly_7") == built(providers, message, "dly_7")
    first, second = (parse(built(providers, message, d)["mime"]) for d in ("dly_7", "dly_8"))
    assert first["Message-ID"] != second["Message-ID"]


def test_an_odd_delivery_id_still_makes_a_valid_message_id(providers: Providers) -> None:
    msg = parse(built(providers, Message(title="t"), "id with spaces<>@")["mime"])
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith(".notify@example.com>")
    assert " " not in msg["Message-ID"]


# -- threads --------------------------------------------------------------------------------


def test_trigger_and_resolve_share_a_thread(send: Send) -> None:
    trigger = send(Message(title="Disk full on db-1", severity="error", dedup_key="disk:db-1"))
    resolve = send(Message(title="Disk full on db-1", state="resolve", dedup_key="disk:db-1"))
    assert trigger["References"] == resolve["References"] == trigger["In-Reply-To"]
    assert resolve["In-Reply-To"] == trigger["In-Reply-To"]
    assert trigger["Message-ID"] != resolve["Message-ID"]
    assert trigger["References"] not in (trigger["Message-ID"], resolve["Message-ID"])


def test_thread_id_wins_over_dedup_key_and_channels_do_not_share_roots(
    providers: Providers,
) -> None:
    def references(message: Message, name: str = "ml-mail") -> str:
        return str(parse(built(providers, message, name=name)["mime"])["References"])

    by_thread = references(Message(title="t", thread_id="run-42", dedup_key="other"))
    assert by_thread == references(Message(title="u", thread_id="run-42"))
    assert by_thread != references(Message(title="t", dedup_key="other"))
    assert by_thread != references(Message(title="t", thread_id="run-42"), name="other-mail")


def test_no_key_no_thread_headers(providers: Providers) -> None:
    msg = parse(built(providers, Message(title="t"))["mime"])
    assert not THREAD & set(msg.keys())


# -- nothing from the message becomes a header or markup ---------------------------------------


INJECTION = "\r\nBcc: evil@x\r\nX-Evil: 1\n\nbody"


def test_a_title_with_crlf_adds_no_header(send: Send) -> None:
    msg = send(
        Message(
            title=f"Pipeline failed{INJECTION}",
            event=f"pipe.failed{INJECTION}",
            fields=[Field(f"name{INJECTION}", f"value{INJECTION}")],
            actions=[Action(f"open{INJECTION}", "https://example.com/x")],
            tags=(f"tag{INJECTION}",),
            dedup_key=f"key{INJECTION}",
        ),
        bcc=None,
    )
    assert set(msg.keys()) == HEADERS - {"Cc", "Reply-To"} | THREAD | {"X-Notify-Event"}
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert msg["Subject"] == "[INFO] Pipeline failed Bcc: evil@x X-Evil: 1 body"
    assert "\n" not in msg["X-Notify-Event"]
    for part in msg.iter_parts():
        assert set(part.keys()) == {"Content-Type", "Content-Transfer-Encoding"}


def test_message_text_is_never_html(send: Send) -> None:
    msg = send(
        Message(
            title="<b>bold</b> & <script>alert(1)</script>",
            body='line 1 <img src=x onerror="alert(1)">\nline 2 &amp;',
            fields={"<i>k</i>": '"><script>x</script>'},
            actions=[
                Action("<b>go</b>", 'https://example.com/?a=1&b="2"'),
                Action("js", "javascript:alert(1)"),
                Action("data", "data:text/html,<script>x</script>"),
                Action("ok", "http://example.com/ok?a=1&b=2"),
            ],
        )
    )
    _, html = parts(msg)
    assert "<script" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "line 1 &lt;img src=x onerror=&quot;alert(1)&quot;&gt;<br>" in html
    assert "line 2 &amp;amp;" in html
    assert "javascript:" not in html and "data:text" not in html
    assert 'href="http://example.com/ok?a=1&amp;b=2"' in html
    assert 'b="2"' not in html  # a URL with a quote is not made a link at all
    hrefs = [line for line in html.split("\n") if "href=" in line]
    assert len(hrefs) == 1


def test_line_breaks_are_kept_in_both_parts(providers: Providers) -> None:
    body = built(providers, Message(title="t", body="one\r\ntwo\rthree\n\nfive"))
    text, html = parts(parse(body["mime"]))
    assert "one\ntwo\nthree\n\nfive\n" in text
    assert "one<br>\ntwo<br>\nthree<br>\n<br>\nfive" in html


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(max_size=80),
    body=st.text(max_size=200),
    name=st.text(max_size=20),
    value=st.text(max_size=40),
)
def test_any_text_builds_a_message_with_the_same_headers(
    providers: Providers, title: str, body: str, name: str, value: str
) -> None:
    payload = built(providers, Message(title=title, body=body, fields=[Field(name, value)]))
    msg = parse(payload["mime"])
    assert set(msg.keys()) == HEADERS
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert all(len(line.encode()) <= 998 for line in payload["mime"])


# -- encodings --------------------------------------------------------------------------------


def test_unicode_travels_as_readable_8bit(providers: Providers) -> None:
    message = Message(title="Ünïcödé ✓ 日本語 🚀", body="RTL: שלום · emoji: 👩‍💻", timestamp=WHEN)
    body = built(providers, message)
    assert "RTL: שלום · emoji: 👩‍💻" in body["mime"]
    msg = parse(body["mime"])
    assert msg["Subject"] == "[INFO] Ünïcödé ✓ 日本語 🚀"
    assert "=?utf-8?" in "\n".join(body["mime"])  # the header is encoded for transport
    assert body["subject"] == "[INFO] Ünïcödé ✓ 日本語 🚀"
    assert {p["Content-Transfer-Encoding"] for p in msg.iter_parts()} == {"8bit"}


def test_a_line_over_998_octets_makes_the_part_quoted_printable(providers: Providers) -> None:
    words = "wörd " * 300  # one line of 1,800 octets
    msg = parse(built(providers, Message(title="t", body=words))["mime"])
    text, html = msg.iter_parts()
    assert text["Content-Transfer-Encoding"] == "quoted-printable"
    assert words.strip() in text.get_content()
    # HTML is wrapped at spaces (a line break renders as a space): still 8bit
    assert html["Content-Transfer-Encoding"] == "8bit"
    run = "x" * 600 + "ü" * 300  # no space to wrap at: quoted-printable, losslessly
    msg = parse(built(providers, Message(title="t", body=run))["mime"])
    assert {p["Content-Transfer-Encoding"] for p in msg.iter_parts()} == {"quoted-printable"}
    assert all(run in p.get_content() for p in msg.iter_parts())


def test_limits_trim_with_the_marker(providers: Providers) -> None:
    message = Message(
        title="T" * 500,
        body="b" * 30_000,
        fields=[Field(f"f{i}", "v" * 2000) for i in range(40)],
        actions=[Action(f"a{i}", f"https://example.com/{i}") for i in range(20)],
    )
    body = built(providers, message)
    text, html = parts(parse(body["mime"]))
    assert body["subject"] == "[INFO] " + "T" * 199 + MARKER
    assert "b" * 19_999 + MARKER in text
    assert "v" * 799 + MARKER in text
    assert "… and 10 more fields" in text and "… and 10 more fields" in html
    assert html.count("href=") == 10


# -- golden files ------------------------------------------------------------------------------


GOLDEN_MESSAGES = {
    "small": Message(title="Backup done", body="42 GB in 3 min", timestamp=WHEN),
    "rich": Message(
        title="Training failed: resnet-50",
        body="loss is **NaN** at step 1200\n\n[logs](https://ml.example.com/runs/42/logs)",
        event="training.failed",
        severity="critical",
        fields={"Run": "r-42", "Loss": "NaN", "Duration": "3h 12m"},
        actions=[
            Action("View run", "https://ml.example.com/runs/42", "primary"),
            Action("Silence", "https://ml.example.com/silence/42", "danger"),
        ],
        tags=("ml", "resnet"),
        dedup_key="training.failed:r-42",
        timestamp=WHEN,
    ),
    "resolve": Message(
        title="Disk full on db-1",
        severity="error",
        state="resolve",
        dedup_key="disk-full:db-1",
        timestamp=WHEN,
    ),
    "hostile": Message(
        title=f"<b>x</b>{INJECTION} Ünïcödé",
        body="<script>alert(1)</script>\n.\n..leading dots\nFrom the start",
        fields={"a<b": '"q"'},
        actions=[Action("js", "javascript:alert(1)")],
        timestamp=WHEN,
    ),
}


@pytest.mark.parametrize("name", list(GOLDEN_MESSAGES))
def test_golden(providers: Providers, name: str) -> None:
    check_golden(GOLDEN / f"{name}.json", built(providers, GOLDEN_MESSAGES[name], "dly_golden_1"))


def test_dots_and_from_lines_survive_the_wire(send: Send) -> None:
    text, _ = parts(send(GOLDEN_MESSAGES["hostile"]))
    assert "\n.\n..leading dots\nFrom the start\n" in text
