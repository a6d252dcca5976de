"""Stored channels through notify serve's API: a real server process, a real store file."""

from __future__ import annotations

from typing import Any

from notify_core.testing import RecordingServer, query, stored_bytes

from ..serve.conftest import TOKEN, Served, wait_until
from .conftest import AUTH_SECRET, URL_SECRET, assert_no_secret, hook_url, new_key, root_config


def _channel(recorder: RecordingServer, **extra: Any) -> dict[str, Any]:
    return {
        "name": "alerts",
        "provider": "webhook",
        "url": hook_url(recorder),
        "events": ["training.*"],
        "settings": {"method": "PUT", "auth": {"type": "bearer", "token": AUTH_SECRET}},
        "description": "acme's training alerts",
        **extra,
    }


def test_api_adds_validates_tests_edits_and_removes_a_tenant_channel(
    serve: Any, recorder: RecordingServer
) -> None:
    served: Served = serve(root_config(recorder), token=TOKEN, env={"NOTIFY_SECRET_KEY": new_key()})
    answers: list[str] = []
    with served.client(headers={"X-Notify-Actor": "alice@acme"}) as client:

        def call(method: str, url: str, **kw: Any) -> Any:
            response = client.request(method, url, **kw)
            answers.append(response.text)
            return response

        # validated before anything is saved, each error naming the field
        bad = call(
            "POST",
            "/v1/tenants/acme/channels",
            json=_channel(recorder, provider="slack", settings=None),
        )
        assert bad.status_code == 422
        assert bad.json()["error"].startswith(
            "tenants.acme.channels.alerts.url: slack url must look like https://hooks.slack.com/"
        )
        unknown = call("POST", "/v1/channels", json=_channel(recorder, provider="slak"))
        assert unknown.status_code == 422
        assert "unknown provider 'slak'" in unknown.json()["error"]
        typo = call(
            "POST",
            "/v1/channels",
            json=_channel(recorder, tenant="acme", events=["traning.failed"]),
        )
        assert typo.status_code == 422
        assert "did you mean 'training.failed'?" in typo.json()["error"]
        clash = call("POST", "/v1/channels", json=_channel(recorder, name="ops"))
        assert clash.status_code == 409
        assert not query(served.db, "SELECT * FROM stored_channels")

        made = call("POST", "/v1/tenants/acme/channels", json=_channel(recorder))
        assert made.status_code == 201, made.text
        body = made.json()
        assert body["key"] == "acme/alerts" and body["stored"] is True
        assert body["read_only"] is False
        assert "/acme?token=****" in body["target"]
        assert body["settings"]["method"] == "PUT"
        assert body["settings"]["auth"]["token"].startswith("****")
        assert body["created_by"] == body["updated_by"]
        assert (
            body["created_by"].startswith("api (token ") and "for alice@acme" in body["created_by"]
        )
        again = call("POST", "/v1/channels", json=_channel(recorder, tenant="acme"))
        assert again.status_code == 409

        listed = call("GET", "/v1/channels", params={"tenant": "acme"}).json()["channels"]
        assert [(c["key"], c["stored"]) for c in listed] == [("acme/alerts", True)]
        everything = call("GET", "/v1/channels").json()["channels"]
        assert {c["key"]: c["read_only"] for c in everything} == {"ops": True, "acme/alerts": False}
        assert (
            call("GET", "/v1/tenants/acme/channels").json()["channels"][0]["key"] == "acme/alerts"
        )

        # configured channels are read-only
        assert call("PATCH", "/v1/channels/ops", json={"events": ["x.*"]}).status_code == 409
        assert call("DELETE", "/v1/channels/ops").status_code == 409

        tested = call("POST", "/v1/channels/alerts/test", params={"tenant": "acme"})
        assert tested.status_code == 200
        assert tested.json()["delivery"]["status"] == "delivered"
        [request] = recorder.requests
        assert request.method == "PUT" and request.path.startswith("/acme?")
        assert request.header("authorization") == f"Bearer {AUTH_SECRET}"

        # an event for the tenant is routed to it by the in-process worker
        accepted = call(
            "POST", "/v1/events", json={"event": "training.failed", "tenant": "acme",
                                        "data": {"experiment": "e7"}},
        )  # fmt: skip
        assert accepted.status_code == 202
        assert [d["channel"] for d in accepted.json()["deliveries"]] == ["alerts"]
        wait_until(lambda: len(recorder.requests) == 2, what="the worker")

        patched = call(
            "PATCH",
            "/v1/channels/alerts",
            params={"tenant": "acme"},
            json={"events": ["deploy.*"], "settings": {"method": None}, "cooldown": 60},
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["events"] == ["deploy.*"]
        assert "method" not in patched.json()["settings"]
        assert patched.json()["cooldown"] == 60
        wrong = call(
            "PATCH", "/v1/channels/alerts", params={"tenant": "acme"},
            json={"url": "ftp://example.com/x"},
        )  # fmt: skip
        assert wrong.status_code == 422
        assert "webhook url must look like https://host/path" in wrong.json()["error"]
        detail = call("GET", "/v1/channels/alerts", params={"tenant": "acme"}).json()
        assert detail["events"] == ["deploy.*"]  # the refused edit changed nothing
        assert "/acme?token=****" in detail["target"]

        history = call("GET", "/v1/channels/alerts/history", params={"tenant": "acme"}).json()
        assert [e["action"] for e in history["entries"]] == ["edited", "tested", "created"]
        assert history["entries"][0]["detail"] == "changed cooldown, events, settings"

        assert call("DELETE", "/v1/channels/alerts", params={"tenant": "acme"}).status_code == 204
        assert call("GET", "/v1/channels/alerts", params={"tenant": "acme"}).status_code == 404
        audit = call("GET", "/v1/audit/channels").json()["entries"]
        assert audit[0]["action"] == "removed"

        page = call("GET", "/ui/channels")
        assert "removed" in page.text
    assert_no_secret(*answers, stored_bytes(served.db))
    # the deliveries' own records hold the masked target only
    assert URL_SECRET not in str(query(served.db, "SELECT * FROM deliveries"))


def test_without_a_key_stored_channels_are_refused_and_configured_ones_work(
    serve: Any, recorder: RecordingServer
) -> None:
    served: Served = serve(root_config(recorder), token=TOKEN)
    with served.client() as client:
        refused = client.post("/v1/channels", json=_channel(recorder, tenant="acme"))
        assert refused.status_code == 503
        assert refused.json()["error"].startswith(
            "stored channels unavailable: NOTIFY_SECRET_KEY is not set"
        )
        sent = client.post(
            "/v1/messages", json={"message": {"title": "still works"}, "channels": ["ops"]}
        )
        assert sent.status_code == 202
        wait_until(lambda: recorder.requests, what="the configured channel")
    assert not query(served.db, "SELECT * FROM stored_channels")
