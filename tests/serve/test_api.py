"""API v1 over real HTTP: accept, inspect, retry, switch, silence; the store a real file."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from notify_core._masking import masked_location
from notify_core.testing import Answer, RecordingServer, query, stored_bytes

from .conftest import HOOK_SECRET, Served, wait_until, webhook_config


def delivered(client: httpx.Client, delivery_id: str) -> dict[str, Any] | None:
    found = client.get(f"/v1/deliveries/{delivery_id}").json()
    return found if found["status"] in ("delivered", "failed", "skipped") else None


def test_an_event_is_stored_before_the_answer_and_left_to_the_worker(
    serve: Any, recorder: RecordingServer
) -> None:
    served: Served = serve(webhook_config(recorder), "--no-worker")
    with served.client() as client:
        answer = client.post(
            "/v1/events",
            json={"event": "training.failed", "data": {"run": 7}, "severity": "error"},
        )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    [delivery] = body["deliveries"]
    assert (delivery["channel"], delivery["status"]) == ("hook", "pending")
    # in the file already, and nothing sent: this server runs no worker
    [row] = query(served.db, "SELECT id, status, event, severity FROM deliveries")
    assert row == {
        "id": delivery["id"],
        "status": "pending",
        "event": "training.failed",
        "severity": "error",
    }
    assert recorder.requests == []


def test_the_in_process_worker_delivers_and_the_log_shows_every_attempt(
    serve: Any, recorder: RecordingServer
) -> None:
    recorder.script(Answer(503, "busy"), path=f"/hook?token={HOOK_SECRET}")
    served: Served = serve(webhook_config(recorder))
    with served.client() as client:
        answer = client.post(
            "/v1/messages",
            json={
                "message": {
                    "title": "Backup done",
                    "fields": [{"name": "size", "value": "3 GB"}],
                    "actions": [{"label": "Logs", "url": "https://logs.example.com/1"}],
                },
                "channels": ["hook"],
            },
        )
        assert answer.status_code == 202, answer.text
        [ref] = answer.json()["deliveries"]
        detail = wait_until(lambda: delivered(client, ref["id"]), what="the delivery")
        listing = client.get("/v1/deliveries", params={"channel": "hook"}).json()
    assert detail["status"] == "delivered"
    assert [a["outcome"] for a in detail["attempts_log"]] == ["retry", "delivered"]
    assert [a["http_status"] for a in detail["attempts_log"]] == [503, 200]
    assert detail["attempts_log"][0]["response"] == "busy"
    assert detail["message"]["title"] == "Backup done"
    assert detail["payload"]["body"]["title"] == "Backup done"
    assert "/hook?token=****" in detail["target"]
    assert [d["id"] for d in listing["deliveries"]] == [ref["id"]]
    [request, _] = recorder.requests[-2:]
    assert request.json()["title"] == "Backup done"
    # the secret went to the destination, and nowhere else
    assert HOOK_SECRET not in json.dumps(detail) + json.dumps(listing)
    assert HOOK_SECRET.encode() not in stored_bytes(served.db)


def test_an_idempotency_key_answers_a_repeat_with_the_first_answer_across_restarts(
    store_db: str, serve: Any, recorder: RecordingServer
) -> None:
    # store_db first: torn down last, after the servers using it have stopped
    config = webhook_config(recorder)
    first_server: Served = serve(config, "--no-worker", name="same", db=store_db)
    event = {"event": "deploy.done", "data": {"version": "1.2"}}
    key = {"Idempotency-Key": "deploy-1.2"}
    with first_server.client() as client:
        first = client.post("/v1/events", json=event, headers=key)
        again = client.post("/v1/events", json=event, headers=key)
        other = client.post("/v1/events", json={**event, "data": {"version": "9"}}, headers=key)
        unrelated = client.post("/v1/events", json=event)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert other.json()["error"].startswith("Idempotency-Key:")
    assert unrelated.json()["message_id"] != first.json()["message_id"]
    assert first_server.stop() == 0

    second_server: Served = serve(config, "--no-worker", name="same", db=store_db)
    with second_server.client() as client:
        after_restart = client.post("/v1/events", json=event, headers=key)
    assert after_restart.json() == first.json()
    rows = query(second_server.db, "SELECT message_id FROM deliveries ORDER BY created")
    assert [r["message_id"] for r in rows] == [
        first.json()["message_id"],
        unrelated.json()["message_id"],
    ]


def test_bad_requests_name_the_field_and_store_nothing(
    serve: Any, recorder: RecordingServer
) -> None:
    served: Served = serve(webhook_config(recorder), "--no-worker")
    with served.client() as client:
        missing = client.post("/v1/events", json={"data": {}})
        typo = client.post("/v1/events", json={"event": "a", "severty": "error"})
        severity = client.post("/v1/events", json={"event": "a", "severity": "urgent"})
        not_json = client.post(
            "/v1/events", content=b"{nope", headers={"Content-Type": "application/json"}
        )
        channel = client.post(
            "/v1/messages", json={"message": {"title": "x"}, "channels": ["hook", "nope"]}
        )
        title = client.post("/v1/messages", json={"message": {"body": "no title"}})
        huge = client.post("/v1/events", json={"event": "a", "data": {"x": "y" * 1_100_000}})
        streamed = client.post(
            "/v1/events",
            content=iter([b'{"event": "a", "data": {"x": "', b"y" * 1_100_000, b'"}}']),
            headers={"Content-Type": "application/json"},
        )
        template = client.get("/v1/deliveries", params={"limit": 0})
        cursor = client.get("/v1/deliveries", params={"cursor": "!!!"})
    assert (missing.status_code, missing.json()["error"]) == (422, "body.event: Field required")
    assert typo.status_code == 422 and "severty" in typo.text
    assert severity.status_code == 422 and severity.json()["error"].startswith("body.severity:")
    assert not_json.status_code == 400 and not_json.json()["error"].startswith("body: invalid JSON")
    assert channel.status_code == 422
    assert channel.json()["error"].startswith("channels[1]: unknown channel 'nope'")
    assert title.json()["error"] == "body.message.title: Field required"
    assert huge.status_code == 413 and streamed.status_code == 413
    assert template.status_code == 422 and template.json()["error"].startswith("query.limit:")
    assert cursor.status_code == 400 and cursor.json()["error"].startswith("cursor:")
    assert query(served.db, "SELECT id FROM deliveries") == []


def test_the_log_filters_and_pages_with_a_cursor(
    store_db: str, serve: Any, recorder: RecordingServer
) -> None:
    served: Served = serve(webhook_config(recorder), "--no-worker", db=store_db)
    ids = []
    with served.client() as client:
        for i in range(5):
            event = "train.done" if i % 2 == 0 else "deploy.done"
            answer = client.post("/v1/events", json={"event": event, "data": {"i": i}})
            ids.append(answer.json()["deliveries"][0]["id"])
        pages, cursor = [], None
        while True:
            page = client.get(
                "/v1/deliveries", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
            ).json()
            pages.append([d["id"] for d in page["deliveries"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        trains = client.get("/v1/deliveries", params={"event": "train.*"}).json()
        pending = client.get("/v1/deliveries", params={"status": "pending"}).json()
        failed = client.get("/v1/deliveries", params={"status": "failed"}).json()
        third = client.get(f"/v1/deliveries/{ids[2]}").json()["created"]
        since = client.get("/v1/deliveries", params={"since": third}).json()
        until = client.get("/v1/deliveries", params={"until": third}).json()
        later = datetime.now(timezone.utc) + timedelta(hours=1)
        future = client.get("/v1/deliveries", params={"since": later.isoformat()}).json()
        missing = client.get("/v1/deliveries/nope")
    assert pages == [ids[4:2:-1], ids[2:0:-1], ids[0:1]]
    assert [d["id"] for d in trains["deliveries"]] == [ids[4], ids[2], ids[0]]
    assert len(pending["deliveries"]) == 5 and failed["deliveries"] == []
    assert [d["id"] for d in since["deliveries"]] == [ids[4], ids[3], ids[2]]
    assert [d["id"] for d in until["deliveries"]] == [ids[1], ids[0]]
    assert future["deliveries"] == []
    assert missing.status_code == 404 and missing.json() == {"error": "no delivery 'nope'"}


def test_a_failed_delivery_is_retried_keeping_its_id(serve: Any, recorder: RecordingServer) -> None:
    recorder.script(Answer(400, "bad hook"), path=f"/flaky?token={HOOK_SECRET}")
    served: Served = serve(webhook_config(recorder))
    with served.client() as client:
        answer = client.post("/v1/events", json={"event": "flaky.thing"})
        [ref] = [d for d in answer.json()["deliveries"] if d["channel"] == "flaky"]
        failed = wait_until(lambda: delivered(client, ref["id"]), what="the failure")
        retried = client.post(f"/v1/deliveries/{ref['id']}/retry")
        again = client.post(f"/v1/deliveries/{ref['id']}/retry")
        unknown = client.post("/v1/deliveries/nope/retry")
        detail = client.get(f"/v1/deliveries/{ref['id']}").json()
    assert failed["status"] == "failed" and "HTTP 400" in failed["last_error"]
    assert retried.status_code == 200, retried.text
    assert retried.json()["deliveries"][0]["status"] == "delivered"
    assert again.status_code == 409 and "delivered" in again.json()["error"]
    assert unknown.status_code == 404
    assert [a["http_status"] for a in detail["attempts_log"]] == [400, 200]


def test_channels_show_health_and_switch_off_and_on(serve: Any, recorder: RecordingServer) -> None:
    served: Served = serve(webhook_config(recorder))
    with served.client() as client:
        tested = client.post("/v1/channels/hook/test")
        listed = {c["name"]: c for c in client.get("/v1/channels").json()["channels"]}
        off = client.post("/v1/channels/hook/disable", json={"reason": "maintenance"})
        skipped = client.post(
            "/v1/messages", json={"message": {"title": "x"}, "channels": ["hook"]}
        )
        on = client.post("/v1/channels/hook/enable")
        sent = client.post("/v1/messages", json={"message": {"title": "y"}, "channels": ["hook"]})
        unknown = client.post("/v1/channels/nope/test")
    assert tested.status_code == 200, tested.text
    assert tested.json()["delivery"]["status"] == "delivered"
    assert tested.json()["response"] == "ok"
    assert recorder.requests[0].json()["title"] == "notify test: hook"
    hook = listed["hook"]
    assert (hook["health"], hook["state"], hook["provider"]) == ("ok", "enabled", "webhook")
    assert "token=****" in hook["target"] and HOOK_SECRET not in json.dumps(listed)
    assert listed["flaky"]["health"] == "unknown"
    assert off.json()["state"] == "disabled by hand: maintenance"
    assert off.json()["health"] == "disabled"
    [skip] = skipped.json()["deliveries"]
    assert skip["status"] == "skipped" and "maintenance" in skip["reason"]
    assert on.json()["state"] == "enabled"
    assert sent.json()["deliveries"][0]["status"] == "pending"
    assert unknown.status_code == 404


def test_silences_are_created_listed_and_removed(serve: Any, recorder: RecordingServer) -> None:
    served: Served = serve(webhook_config(recorder), "--no-worker")
    with served.client() as client:
        made = client.post(
            "/v1/silences", json={"event": "noisy.*", "duration": 3600, "reason": "flapping"}
        )
        listed = client.get("/v1/silences").json()["silences"]
        quiet = client.post("/v1/events", json={"event": "noisy.check"})
        removed = client.delete(f"/v1/silences/{made.json()['id']}")
        gone = client.delete(f"/v1/silences/{made.json()['id']}")
        loud = client.post("/v1/events", json={"event": "noisy.check"})
        both = client.post("/v1/silences", json={"duration": 60, "until": "2999-01-01T00:00:00Z"})
        typo = client.post("/v1/silences", json={"channel": "nope", "duration": 60})
    assert made.status_code == 201 and made.json()["active"] is True
    assert [s["id"] for s in listed] == [made.json()["id"]]
    assert quiet.json()["deliveries"][0]["status"] == "skipped"
    assert (removed.status_code, gone.status_code) == (204, 404)
    assert loud.json()["deliveries"][0]["status"] == "pending"
    assert both.status_code == 422 and typo.status_code == 422
    assert typo.json()["error"].startswith("channel: unknown channel")


def test_readyz_and_metrics_tell_the_store_and_the_outcomes(
    store_db: str, serve: Any, recorder: RecordingServer
) -> None:
    recorder.script(
        Answer(429, "slow down", headers={"Retry-After": "0"}), path=f"/hook?token={HOOK_SECRET}"
    )
    recorder.script(Answer(400, "no"), path=f"/flaky?token={HOOK_SECRET}")
    served: Served = serve(webhook_config(recorder), db=store_db)
    with served.client() as client:
        ready = client.get("/readyz")
        answer = client.post("/v1/events", json={"event": "flaky.run"})
        for ref in answer.json()["deliveries"]:
            wait_until(lambda ref=ref: delivered(client, ref["id"]), what="the deliveries")
        metrics = client.get("/metrics")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    shown = masked_location(store_db) if "://" in store_db else store_db  # no password
    assert ready.json()["store"] == shown
    text = metrics.text
    assert metrics.headers["content-type"].startswith("text/plain")
    assert (
        'notify_notifications_total{channel="hook",provider="webhook",status="delivered"} 1.0'
        in text
    )
    assert (
        'notify_notifications_total{channel="flaky",provider="webhook",status="failed"} 1.0' in text
    )
    assert 'notify_attempts_total{outcome="retry",provider="webhook"} 1.0' in text
    assert 'notify_attempts_total{outcome="delivered",provider="webhook"} 1.0' in text
    assert 'notify_rate_limited_total{provider="webhook"} 1.0' in text
    assert 'notify_delivery_duration_seconds_count{provider="webhook"} 3.0' in text
    assert "notify_outbox_pending 0.0" in text
    assert 'notify_deliveries_stored{status="failed"} 1.0' in text
    assert 'notify_channel_enabled{channel="hook",provider="webhook"} 1.0' in text
    assert HOOK_SECRET not in text and "127.0.0.1" not in text
