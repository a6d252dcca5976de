"""Reading an e-mail channel: keys, the mailto:// URL, addresses, and what is secret."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notify_core import Channel, InvalidTarget, Providers, adhoc_channel
from notify_email import read_channel
from notify_email._address import AddressError, Mailbox, parse_mailbox, split_list

PASSWORD = "s3cr3t:p@ss/w0rd%?"
ENCODED = "s3cr3t%3Ap%40ss%2Fw0rd%25%3F"
BASE = {"host": "smtp.example.com", "from": "alerts@example.com", "to": "ops@example.com"}


def keys(**options: Any) -> Channel:
    merged = {**BASE, **options}
    return Channel(
        name="mail", provider="email", options={k: v for k, v in merged.items() if v is not None}
    )


def url(text: str) -> Channel:
    return adhoc_channel(text, "email")


def refused(channel: Channel) -> InvalidTarget:
    with pytest.raises(InvalidTarget) as caught:
        read_channel(channel)
    return caught.value


# -- the URL form -------------------------------------------------------------------------


def test_mailto_is_starttls_on_587_with_percent_decoded_credentials() -> None:
    email = read_channel(
        url(
            f"mailto://alerts%40example.com:{ENCODED}@smtp.example.com"
            "?to=a@example.com,b@example.com&cc=c@example.com&bcc=d@example.com"
        )
    )
    assert (email.host, email.port, email.mode) == ("smtp.example.com", 587, "starttls")
    assert (email.username, email.password) == ("alerts@example.com", PASSWORD)
    assert email.sender == Mailbox("alerts@example.com")  # the username is an address
    assert [b.address for b in email.to] == ["a@example.com", "b@example.com"]
    assert email.recipients == ("a@example.com", "b@example.com", "c@example.com", "d@example.com")


def test_mailtos_is_implicit_tls_on_465() -> None:
    email = read_channel(
        url("mailtos://u:pw12@smtp.example.com?to=a@example.com&from=b@example.com")
    )
    assert (email.port, email.mode) == (465, "ssl")


def test_port_465_implies_implicit_tls_and_plain_is_only_on_request() -> None:
    assert read_channel(url("mailto://smtp.example.com:465?to=a@x.org&from=b@x.org")).mode == "ssl"
    assert (
        read_channel(url("mailto://smtp.example.com:25?to=a@x.org&from=b@x.org")).mode == "starttls"
    )
    plain = read_channel(url("mailto://127.0.0.1:2525?mode=plain&to=a@x.org&from=b@x.org"))
    assert (plain.host, plain.port, plain.mode) == ("127.0.0.1", 2525, "plain")


def test_apprise_smtp_parameter_and_display_name() -> None:
    email = read_channel(
        url(
            "mailto://alerts:pw12@example.com?smtp=smtp.example.com&to=ops@example.com&name=CI%20Bot&reply=help@example.com"
        )
    )
    assert email.host == "smtp.example.com"
    assert email.sender == Mailbox("alerts@example.com", "CI Bot")
    assert email.reply_to == (Mailbox("help@example.com"),)


def test_a_plus_in_the_url_stays_a_plus() -> None:
    email = read_channel(
        url("mailto://smtp.example.com?to=ops+alerts@example.com&from=a%2Bb@x.org")
    )
    assert email.to == (Mailbox("ops+alerts@example.com"),)
    assert email.sender == Mailbox("a+b@x.org")


def test_ipv6_server() -> None:
    email = read_channel(url("mailto://[::1]:2525?mode=plain&to=a@x.org&from=b@x.org"))
    assert email.host == "::1"
    assert email.url == "smtp://[::1]:2525"


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("https://smtp.example.com?to=a@x.org", "mailto://"),
        ("mailto:ops@example.com", "needs the SMTP server"),
        (
            "mailto://smtp.example.com?to=a@x.org&from=b@x.org&subject=hi",
            "unknown parameter 'subject'",
        ),
        ("mailto://smtp.example.com?to=a@x.org&from=b@x.org&from=c@x.org", "more than once"),
        ("mailto://smtp.example.com:99999?to=a@x.org&from=b@x.org", "malformed"),
        ("mailto://smtp.example.com/path?to=a@x.org&from=b@x.org", "no path"),
        ("mailtos://smtp.example.com?mode=starttls&to=a@x.org&from=b@x.org", "implicit TLS"),
        ("mailto://u:pw12@smtp.example.com?mode=plain&to=a@x.org&from=b@x.org", "unencrypted"),
        ("mailto://smtp.example.com?to=not-an-address&from=b@x.org", "url to="),
        ("mailto://smtp.example.com?from=b@x.org", "at least one recipient"),
        ("mailto://smtp.example.com?to=a@x.org", "needs a sender"),
        ("mailto://?to=a@x.org&from=b@x.org", "needs the SMTP server"),
        ("mailto://u@smtp.example.com?to=a@x.org&from=b@x.org", "password is missing"),
        ("mailto://smtp.example.com?to=a@x.org&from=b@x.org&mode=tls", "must be one of"),
    ],
)
def test_bad_urls_are_refused_naming_the_url(text: str, expect: str) -> None:
    error = refused(url(text))
    assert expect in str(error)
    assert error.key == "url"


def test_the_password_never_appears_in_an_error() -> None:
    error = refused(url(f"mailto://u:{ENCODED}@smtp.example.com?to={ENCODED}&from=b@x.org"))
    assert error.key == "url"
    assert PASSWORD not in str(error) and ENCODED not in str(error)
    error = refused(keys(username="u", password=PASSWORD, to=f"x{PASSWORD}"))
    assert error.key == "to"
    assert PASSWORD not in str(error)


# -- the keys -------------------------------------------------------------------------------


def test_keys_with_lists_display_names_and_a_string_port() -> None:
    email = read_channel(
        keys(
            port="2587",
            username="alerts",
            password=PASSWORD,
            to=["Ops <ops@example.com>", '"Doe, Jane" <jane@example.com>, bob@example.com'],
            **{"from": "Notify Alerts <alerts@example.com>"},
            reply_to="help@example.com",
        )
    )
    assert email.port == 2587
    assert email.sender == Mailbox("alerts@example.com", "Notify Alerts")
    assert email.to == (
        Mailbox("ops@example.com", "Ops"),
        Mailbox("jane@example.com", "Doe, Jane"),
        Mailbox("bob@example.com"),
    )
    assert PASSWORD not in repr(email)


@pytest.mark.parametrize(
    ("options", "key", "expect"),
    [
        ({"host": None}, "host", "needs the SMTP server"),
        ({"host": "smtp example.com"}, "host", "not a host name"),
        ({"host": "smtp.exämple.com"}, "host", "xn--"),
        ({"port": 0}, "port", "1 to 65535"),
        ({"port": True}, "port", "1 to 65535"),
        ({"mode": "tls"}, "mode", "must be one of"),
        ({"to": None}, "to", "at least one recipient"),
        ({"to": "ops@"}, "to", "not an e-mail address"),
        ({"to": ["ops@example.com", 3]}, "to", "strings"),
        ({"to": "Ops <ops@example.com"}, "to", "Name <address>"),
        ({"to": "jürgen@example.com"}, "to", "non-ASCII"),
        ({"cc": "a b@example.com"}, "cc", "local part"),
        ({"bcc": "x@-example.com"}, "bcc", "domain"),
        ({"reply_to": "nobody"}, "reply_to", "not an e-mail address"),
        ({"from": None}, "from", "needs a sender"),
        ({"from": "a@example.com, b@example.com"}, "from", "exactly one"),
        ({"from": "Evil\r\nBcc: x@y.org <a@example.com>"}, "from", "line break"),
        ({"to": "Ops\n <ops@example.com>"}, "to", "line break"),
        ({"password": PASSWORD}, "password", "username is not"),
        ({"username": "alerts"}, "username", "password is missing"),
        ({"username": "alerts", "password": PASSWORD, "mode": "plain"}, "mode", "unencrypted"),
        ({"mode": "plain", "ca_file": "/etc/ca.pem"}, "ca_file", "TLS mode"),
        ({"ca_file": "/etc/ca.pem\n"}, "ca_file", "line break"),
        ({"to": [f"u{i}@example.com" for i in range(101)]}, "to", "at most 100"),
    ],
)
def test_bad_keys_are_refused_naming_the_key(
    options: dict[str, Any], key: str, expect: str
) -> None:
    error = refused(keys(**options))
    assert error.key == key, str(error)
    assert expect in str(error)
    assert "\n" not in str(error)


def test_unknown_settings_are_refused() -> None:
    channel = Channel(name="m", provider="email", options=BASE, settings={"subject": "x"})
    assert refused(channel).key == "settings.subject"


def test_a_value_given_in_the_url_and_as_a_key_is_refused() -> None:
    channel = Channel(
        name="m",
        provider="email",
        url="mailto://smtp.example.com?to=a@example.com&from=b@example.com",
        options={"to": "c@example.com"},
    )
    error = refused(channel)
    assert error.key == "to"
    assert "both" in str(error)


def test_url_and_keys_combine() -> None:
    channel = Channel(
        name="m",
        provider="email",
        url=f"mailto://alerts%40example.com:{ENCODED}@smtp.example.com",
        options={"to": ["ops@example.com"]},
    )
    email = read_channel(channel)
    assert (email.password, email.to) == (PASSWORD, (Mailbox("ops@example.com"),))


# -- what is shown and what is secret ----------------------------------------------------


def test_target_lists_the_password_and_never_shows_it(providers: Providers) -> None:
    channel = url(
        f"mailto://alerts%40example.com:{ENCODED}@smtp.example.com?to=a@example.com&bcc=b@example.com"
    )
    target = providers.validate(channel)
    assert set(target.secrets) == {PASSWORD, ENCODED}
    assert target.url == "smtp://alerts%40example.com@smtp.example.com:587"
    assert target.display == (
        "smtp.example.com:587 starttls as alerts@example.com to a@example.com (+1 bcc)"
    )
    masker = providers.masker(channel, target)
    assert PASSWORD not in masker.text(f"echo {PASSWORD} and {ENCODED}")
    assert ENCODED not in masker.text(f"echo {PASSWORD} and {ENCODED}")


def test_the_password_key_is_masked_by_the_core(providers: Providers) -> None:
    channel = keys(username="alerts", password=PASSWORD)
    target = providers.validate(channel)
    assert PASSWORD not in providers.display(channel, target)
    assert providers.masker(channel, target).text(PASSWORD) != PASSWORD


def test_url_patterns_infer_the_provider(providers: Providers) -> None:
    assert providers.infer("mailto://u:p@smtp.example.com?to=a@x.org") == "email"
    assert providers.infer("MAILTOS://smtp.example.com?to=a@x.org") == "email"


# -- the address parser ---------------------------------------------------------------------


def test_split_list_respects_quotes_and_angle_brackets() -> None:
    assert list(split_list('"Doe, J" <j@x.org>, <a,b@x.org>,c@x.org')) == [
        '"Doe, J" <j@x.org>',
        " <a,b@x.org>",
        "c@x.org",
    ]


@given(st.text(max_size=60))
def test_parse_mailbox_never_accepts_line_breaks_or_non_ascii_addresses(text: str) -> None:
    try:
        box = parse_mailbox(text)
    except AddressError as exc:
        assert "\n" not in str(exc)
        return
    assert box.address.isascii()
    assert not any(c in box.address + box.name for c in "\r\n\x00")
    assert box.address.count("@") >= 1


atext = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=10
)
label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)


@given(
    st.lists(atext, min_size=1, max_size=3),
    st.lists(label, min_size=1, max_size=3),
    st.text(max_size=20),
)
def test_parse_mailbox_accepts_every_dot_atom_address(
    local: list[str], domain: list[str], name: str
) -> None:
    address = ".".join(local) + "@" + ".".join(domain)
    assert parse_mailbox(address) == Mailbox(address)
    clean = " ".join("".join(c for c in name if c.isprintable() and c not in '"\\<>').split())
    if clean:
        assert parse_mailbox(f'"{clean}" <{address}>') == Mailbox(address, clean)
