"""The core reads aiohttp's answers (RawAnswer) exactly as it reads an httpx.Response.

Providers without a ``classify_response`` of their own (the webhook) are read from
aiohttp's answer without building an ``httpx.Response``; plugins that read answers
themselves still get one. Both readings must agree on every kind of answer.
"""

from __future__ import annotations

import httpx
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from notify_core import Channel, Message, Notifier, Rate
from notify_core._http._transport import RawAnswer
from notify_core.plugin import generic_outcome, read_json
from notify_core.testing import Answer

ANSWERS = [
    (200, {"Content-Type": "text/plain"}, b"ok"),
    (202, {}, b""),
    (429, {"Retry-After": "7"}, b"slow down"),
    (503, {"Content-Type": "text/html"}, b"<html><title>Down for maintenance</title></html>"),
    (301, {"Location": "https://elsewhere.example/x"}, b""),
    (404, {"Content-Type": "application/json"}, b'{"error": "no such hook"}'),
    (418, {}, b"\xff\xfe not utf-8"),
]


@pytest.mark.parametrize(("status", "headers", "body"), ANSWERS)
def test_a_raw_answer_reads_as_the_httpx_response(status, headers, body):
    raw = tuple((k.encode(), v.encode()) for k, v in headers.items())
    answer = RawAnswer(status, CIMultiDictProxy(CIMultiDict(headers)), raw, body)
    response = httpx.Response(status, headers=list(headers.items()), content=body)
    assert generic_outcome(answer) == generic_outcome(response)
    assert read_json(answer) == read_json(response)
    as_httpx = answer.response()
    assert (as_httpx.status_code, as_httpx.content) == (status, body)
    assert as_httpx.headers.get("retry-after") == response.headers.get("retry-after")


def test_the_pipeline_reads_a_webhook_answer_through_the_raw_path(tmp_path, recorder):
    """A 429 with Retry-After, then a 200: the reason and the wait come through."""
    recorder.script(Answer(429, "slow down", headers={"Retry-After": "0"}))
    fast = Rate(per_second=1000, burst=1000)
    hook = Channel(name="hook", provider="webhook", url=f"{recorder.url}/h", rate=fast)
    with Notifier(channels=[hook], db=tmp_path / "a.db", env={}) as notifier:
        assert notifier.providers.classifies_plainly("webhook")
        assert not notifier.providers.classifies_plainly("slack")
        result = notifier.send(Message(title="x"), wait=10)
        attempts = notifier.store.attempts(result.deliveries[0].id)
    assert result.ok and result.deliveries[0].attempts == 2
    assert [(a.http_status, a.outcome) for a in attempts] == [(429, "retry"), (200, "delivered")]
    assert attempts[0].error == "HTTP 429: slow down"
