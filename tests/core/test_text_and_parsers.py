"""Pure helpers: templates, masking, Retry-After, backoff, durations, truncation."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notify_core import RetryPolicy, TemplateError
from notify_core._duration import parse_duration
from notify_core._retry import next_delay, parse_retry_after
from notify_core._template import EventTemplate
from notify_core.plugin import (
    MIN_SECRET,
    Masker,
    placeholders,
    render,
    truncate,
    truncate_bytes,
    url_secrets,
    utc,
)


def test_render_fills_names_and_refuses_everything_else():
    assert render("{a} and {{b}}", {"a": 1}) == "1 and {b}"
    for bad in ("{a.__class__}", "{a[0]}", "{a!r}", "{a:>10}", "{0}", "{}"):
        with pytest.raises(TemplateError):
            render(bad, {"a": "x"})
    with pytest.raises(TemplateError, match="unknown template key 'b' \\(the data has: a\\)"):
        render("{b}", {"a": 1})


@given(
    st.text(max_size=60),
    st.dictionaries(st.from_regex(r"[a-z_]{1,5}", fullmatch=True), st.text(max_size=5), max_size=4),
)
def test_render_never_raises_anything_but_template_error(template, data):
    try:
        out = render(template, data)
    except TemplateError as exc:
        assert str(exc)
    else:
        assert isinstance(out, str)
        assert placeholders(template) is not None


def test_event_template_renders_a_message():
    template = EventTemplate(
        event="training.failed",
        title="{experiment} failed",
        fields=(("Loss", "{loss}"),),
        actions=(("Logs", "{url}"),),
    )
    message = template.render({"experiment": "e1", "loss": 3.2, "url": "https://x/1"})
    assert message.title == "e1 failed"
    assert message.event == "training.failed"
    assert message.fields[0].value == "3.2"
    assert message.actions[0].url == "https://x/1"


def test_masker_masks_every_occurrence_and_nested_data():
    masker = Masker(["supersecretvalue1234567", "abcd"])
    assert "supersecret" not in masker.text("a supersecretvalue1234567 b supersecretvalue1234567")
    assert masker.text("supersecretvalue1234567").endswith("4567")
    data = masker.data({"x": ["abcd"], "token": "not-listed-but-key-says-secret"})
    assert data == {"x": ["****"], "token": "****cret"}  # long secrets keep a 4-char tail


def test_url_secrets_finds_tokens_not_plain_paths():
    url = "https://u:pw1234@h.example.com/hooks/AbCdEf0123456789xyz/plain?key=qqqq1111&x=1"
    found = url_secrets(url)
    assert "pw1234" in found
    assert "AbCdEf0123456789xyz" in found
    assert "qqqq1111" in found
    assert "plain" not in found
    assert "hooks" not in found


@given(st.text())
def test_url_secrets_never_crash(text):
    assert isinstance(url_secrets(text), tuple)


def test_retry_after_seconds_and_http_date():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after("7") == 7
    assert parse_retry_after(" 1.5 ") == 1.5
    assert (
        parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30
    )
    assert (
        parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0
    )
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") == 0


@given(st.text())
def test_retry_after_never_crashes(text):
    value = parse_retry_after(text)
    assert value is None or value >= 0


def test_backoff_is_full_jitter_and_capped_but_retry_after_is_not():
    policy = RetryPolicy(attempts=10, backoff=1.0, max_delay=5.0)
    rng = random.Random(1)
    delays = [next_delay(policy, n, None, rng) for n in range(1, 10)]
    assert all(0 <= d <= min(5.0, 2 ** (n - 1)) for n, d in enumerate(delays, start=1))
    assert next_delay(policy, 1, retry_after=3.0) == 3.0
    # a provider asking for longer than max_delay is obeyed: earlier would earn another
    # 429 (the retry deadline bounds it, in the dispatcher)
    assert next_delay(policy, 1, retry_after=3000.0) == 3000.0


def test_durations():
    assert parse_duration("30m") == 1800
    assert parse_duration("2h") == 7200
    assert parse_duration("7d") == 7 * 86400
    assert parse_duration(15) == 15
    for bad in ("x", "-1s", "1y", True):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)


@given(st.text(), st.integers(min_value=0, max_value=50))
def test_truncate_respects_the_limit_and_marks_cuts(text, limit):
    out = truncate(text, limit)
    assert len(out) <= limit
    if len(text) > limit and limit > 1:
        assert out.endswith("…")
    out_b = truncate_bytes(text, limit)
    assert len(out_b.encode()) <= limit


def test_utc_takes_naive_times_as_utc_and_converts_the_others():
    naive = datetime(2026, 1, 2, 3, 4, 5)
    assert utc(naive) == naive.replace(tzinfo=timezone.utc)
    paris = datetime(2026, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    assert utc(paris).isoformat() == "2026-01-02T03:04:05+00:00"


def test_masking_has_one_threshold():
    assert MIN_SECRET == 4
    assert Masker(["abc", "abcd"]).secrets == ("abcd",)
    assert url_secrets("https://[bad") == ("https://[bad",)  # unparsable: all of it
    assert url_secrets("x?token=abc") == () and url_secrets("x?token=abcd") == ("abcd",)


@pytest.mark.parametrize(
    ("status", "throttled"), [(429, True), (503, False), (408, False), (500, False)]
)
def test_only_a_429_is_throttling(status, throttled):
    """A 429 says "slow down" (no retry budget spent); other transient answers do not."""
    import httpx

    from notify_core.plugin import generic_outcome

    answer = httpx.Response(status, text="later", headers={"Retry-After": "3"})
    outcome = generic_outcome(answer)
    assert (outcome.status, outcome.retry_after, outcome.throttled) == ("retry", 3.0, throttled)
