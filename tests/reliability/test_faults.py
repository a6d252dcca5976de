"""The fault matrix: how each misbehaviour of a destination is handled.

Every test talks to a real server on 127.0.0.1 through real sockets. Retry policies are
tiny (backoff 0.05 s) so the suite stays fast; the behaviour is the same at any scale.
"""

from __future__ import annotations

import socket
import threading
import time
from email.utils import formatdate

import pytest

from notify_core import Message, Notifier, Providers, parse_config
from notify_core.testing import Answer, RecordingServer

PROVIDERS = Providers.discover()
FAST_RETRY = {"attempts": 4, "backoff": 0.05, "max_delay": 5}


def make(
    tmp_path, urls: dict[str, str], *, timeout: float = 2.0, retry: dict | None = None
) -> Notifier:
    channels = {
        name: {"provider": "webhook", "url": url, "timeout": timeout, "retry": retry or FAST_RETRY}
        for name, url in urls.items()
    }
    config = parse_config({"channels": channels}, PROVIDERS, env={})
    return Notifier(config=config, db=tmp_path / "f.db", providers=PROVIDERS, env={})


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 425])
def test_transient_statuses_are_retried_until_delivered(recorder, tmp_path, status):
    recorder.script(Answer(status, "try later"), Answer(status, "try later"))
    with make(tmp_path, {"a": f"{recorder.url}/a"}) as n:
        [d] = n.send(Message(title="x"), wait=10).deliveries
        attempts = n.store.attempts(d.id)
    assert (d.status, d.attempts) == ("delivered", 3)
    assert [a.http_status for a in attempts] == [status, status, 200]
    assert [a.outcome for a in attempts] == ["retry", "retry", "delivered"]


def test_retries_stop_at_the_policy_and_keep_the_reason(recorder, tmp_path):
    recorder.default = Answer(503, "down for maintenance")
    with make(tmp_path, {"a": f"{recorder.url}/a"}) as n:
        [d] = n.send(Message(title="x"), wait=10).deliveries
    assert d.status == "failed"
    assert d.attempts == 4
    assert len(recorder.requests) == 4
    assert "gave up after 4 attempts" in d.reason
    assert "down for maintenance" in d.reason


@pytest.mark.parametrize(
    ("answer", "reason", "disables"),
    [
        (Answer(400, "missing field: text"), "missing field: text", False),
        (Answer(404, "no_service"), "no_service", True),
        (Answer(410, "channel_is_archived"), "channel_is_archived", True),
        (Answer(422, "unprocessable"), "unprocessable", False),
        (
            Answer(301, "", headers={"Location": "https://elsewhere.example.com/"}),
            "redirect to https://elsewhere.example.com/ not followed",
            False,
        ),
    ],
)
def test_permanent_failures_fail_once_with_the_reason(recorder, tmp_path, answer, reason, disables):
    recorder.script(answer)
    with make(tmp_path, {"a": f"{recorder.url}/a"}) as n:
        [d] = n.send(Message(title="x"), wait=10).deliveries
        state = n.store.channel_state("a")
    assert (d.status, d.attempts) == ("failed", 1)
    assert len(recorder.requests) == 1
    assert reason in d.reason
    assert state.consecutive_failures == (1 if disables else 0)


def test_html_on_200_is_delivered_and_kept(recorder, tmp_path):
    recorder.script(Answer(200, "<html><body>Welcome to nginx!</body></html>"))
    with make(tmp_path, {"a": f"{recorder.url}/a"}) as n:
        [d] = n.send(Message(title="x")).deliveries
        [attempt] = n.store.attempts(d.id)
    assert d.status == "delivered"
    assert attempt.response == "<html><body>Welcome to nginx!</body></html>"


def test_retry_after_seconds_is_honoured_and_other_channels_go_on(tmp_path):
    with RecordingServer() as limited, RecordingServer() as other:
        limited.script(Answer(429, "slow down", headers={"Retry-After": "1"}))
        with make(tmp_path, {"a": f"{limited.url}/a", "b": f"{other.url}/b"}) as n:
            result = n.send(Message(title="x"), wait=10)
    assert [d.status for d in result.deliveries] == ["delivered", "delivered"]
    first, second = limited.requests
    gap = second.received - first.received
    assert gap >= 1.0  # nothing was sent before Retry-After expired
    # the other channel was not held back by the first one's wait
    assert other.requests[0].received < first.received + 0.5


def test_retry_after_http_date_is_honoured(recorder, tmp_path):
    retry_at = time.time() + 2
    recorder.script(Answer(429, "", headers={"Retry-After": formatdate(retry_at, usegmt=True)}))
    with make(tmp_path, {"a": f"{recorder.url}/a"}) as n:
        [d] = n.send(Message(title="x"), wait=10).deliveries
    assert d.status == "delivered"
    first, second = recorder.requests
    assert second.received >= int(retry_at) - 0.05  # not before the date (1 s resolution)
    assert second.received - first.received >= 0.9


def test_retry_after_beyond_the_wait_stays_queued_for_the_worker(recorder, tmp_path):
    recorder.script(Answer(429, "", headers={"Retry-After": "120"}))
    with make(tmp_path, {"a": f"{recorder.url}/a"}, retry={"attempts": 3, "max_delay": 600}) as n:
        [d] = n.send(Message(title="x"), wait=1).deliveries
        [row] = n.store.query()
    assert d.status == "pending"
    assert row.status == "pending"
    assert row.lease_owner is None
    assert row.next_attempt is not None and row.next_attempt >= time.time() + 100
    assert len(recorder.requests) == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_then_recovering(tmp_path):
    port = free_port()
    server_box: list[RecordingServer] = []

    def start_later() -> None:
        time.sleep(0.4)
        server_box.append(RecordingServer(port=port).start())

    starter = threading.Thread(target=start_later)
    starter.start()
    try:
        with make(
            tmp_path,
            {"a": f"http://127.0.0.1:{port}/a"},
            retry={"attempts": 8, "backoff": 0.2, "max_delay": 0.4},
        ) as n:
            [d] = n.send(Message(title="x"), wait=10).deliveries
            attempts = n.store.attempts(d.id)
    finally:
        starter.join()
        for server in server_box:
            server.stop()
    assert d.status == "delivered"
    assert attempts[0].outcome == "retry"
    assert "connection error" in (attempts[0].error or "")
    assert len(server_box[0].requests) == 1


def test_connection_reset_mid_response_is_retried(recorder, tmp_path):
    recorder.script(Answer(200, "x" * 1000, cut=True))
    with make(tmp_path, {"a": f"{recorder.url}/a"}) as n:
        [d] = n.send(Message(title="x"), wait=10).deliveries
        attempts = n.store.attempts(d.id)
    assert d.status == "delivered"
    assert [a.outcome for a in attempts] == ["retry", "delivered"]
    assert "connection error" in (attempts[0].error or "")
    # both attempts carried one id, so the receiver can drop the duplicate
    assert len({r.header("Idempotency-Key") for r in recorder.requests}) == 1


def test_hang_up_without_answer_is_retried(recorder, tmp_path):
    recorder.script(Answer(close=True))
    with make(tmp_path, {"a": f"{recorder.url}/a"}) as n:
        [d] = n.send(Message(title="x"), wait=10).deliveries
    assert (d.status, d.attempts) == ("delivered", 2)


def test_slower_than_the_timeout_is_retried_and_does_not_hold_others(tmp_path):
    with RecordingServer() as slow, RecordingServer() as fast:
        slow.script(Answer(200, "late", delay=2.0))
        with make(tmp_path, {"slow": f"{slow.url}/s", "fast": f"{fast.url}/f"}, timeout=0.3) as n:
            result = n.send(Message(title="x"), wait=10)
            by_name = {d.channel: d for d in result.deliveries}
            [first, *_] = n.store.attempts(by_name["slow"].id)
    assert by_name["slow"].status == "delivered"
    assert by_name["slow"].attempts == 2
    assert "timed out after 0.3s" in (first.error or "")
    assert by_name["fast"].status == "delivered"
    assert fast.requests[0].received < slow.requests[0].received + 0.3
