"""The Alertmanager receiver: real webhook payloads in, PagerDuty incidents opened and closed
at a local fake events.pagerduty.com (the core's NOTIFY_REROUTE seam)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from notify_core import Severity
from notify_core.testing import Answer, RecordingServer, stored_bytes
from notify_serve import alert_messages, severity_of
from notify_serve._schemas import AlertmanagerIn

from .conftest import Served, wait_until

ROUTING_KEY = "R0utingKeyF0rServeTests00000abcd"
PAGERDUTY = "https://events.pagerduty.com"
CONFIG = """
[channels.oncall]
provider = "pagerduty"
routing_key = "${PD_KEY}"
events = ["alertmanager.*"]
"""

#: What Alertmanager 0.27 posts for a group of two firing alerts (its times have
#: nanoseconds, and a firing alert's endsAt is Go's zero time).
FIRING: dict[str, Any] = {
    "receiver": "notify",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighErrorRate",
                "instance": "api-1:9090",
                "job": "api",
                "severity": "critical",
            },
            "annotations": {
                "summary": "High error rate on api-1",
                "description": "5xx ratio is 12% over the last 5 minutes.",
                "runbook_url": "https://runbooks.example.com/high-error-rate",
            },
            "startsAt": "2024-05-01T10:00:00.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=rate%28x%29",
            "fingerprint": "a1b2c3d4e5f60718",
        },
        {
            "status": "firing",
            "labels": {
                "alertname": "HighErrorRate",
                "instance": "api-2:9090",
                "job": "api",
                "severity": "page",
            },
            "annotations": {"summary": "High error rate on api-2"},
            "startsAt": "2024-05-01T10:00:30.5Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=rate%28x%29",
            "fingerprint": "b2c3d4e5f6071829",
        },
    ],
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "job": "api"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager.example.com:9093",
    "version": "4",
    "groupKey": '{}:{alertname="HighErrorRate"}',
    "truncatedAlerts": 0,
}


def resolved(payload: dict[str, Any], index: int) -> dict[str, Any]:
    """The notification Alertmanager sends when one alert of the group resolves."""
    out = copy.deepcopy(payload)
    alert = out["alerts"][index]
    alert["status"] = "resolved"
    alert["endsAt"] = "2024-05-01T10:15:00.987654321Z"
    out["alerts"] = [alert]
    out["status"] = "resolved"
    return out


def accepted(dedup_key: str) -> Answer:
    body = {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
    return Answer(202, json.dumps(body), headers={"Content-Type": "application/json"})


def test_firing_then_resolved_opens_and_closes_pagerduty_incidents(
    serve: Any, recorder: RecordingServer
) -> None:
    recorder.script(*(accepted(k) for k in ("a1b2c3d4e5f60718", "b2c3d4e5f6071829")))
    recorder.script(accepted("a1b2c3d4e5f60718"))
    env = {"PD_KEY": ROUTING_KEY, "NOTIFY_REROUTE": f"{PAGERDUTY}={recorder.url}"}
    served: Served = serve(CONFIG, env=env)
    with served.client() as client:
        fired = client.post("/v1/alertmanager", json=FIRING)
        triggers = wait_until(lambda: len(recorder.to("/v2/enqueue")) >= 2, what="2 triggers")
        closed = client.post("/v1/alertmanager", json=resolved(FIRING, 0))
        wait_until(lambda: len(recorder.to("/v2/enqueue")) >= 3, what="the resolve")

        def log_now() -> dict[str, Any]:
            answer: dict[str, Any] = client.get(
                "/v1/deliveries", params={"event": "alertmanager.*"}
            ).json()
            return answer

        # the sink has the request before the worker has recorded its answer
        wait_until(
            lambda: [d["status"] for d in log_now()["deliveries"]] == ["delivered"] * 3,
            what="three deliveries recorded",
        )
        log = log_now()
    assert triggers
    assert fired.status_code == 202, fired.text
    body = fired.json()
    assert body["alerts"] == 2
    assert [(a["fingerprint"], a["state"], a["event"]) for a in body["accepted"]] == [
        ("a1b2c3d4e5f60718", "trigger", "alertmanager.HighErrorRate"),
        ("b2c3d4e5f6071829", "trigger", "alertmanager.HighErrorRate"),
    ]
    assert closed.json()["accepted"][0]["state"] == "resolve"

    events = [r.json() for r in recorder.to("/v2/enqueue")]
    first, second = sorted(events[:2], key=lambda e: e["dedup_key"])
    assert (first["event_action"], first["dedup_key"]) == ("trigger", "a1b2c3d4e5f60718")
    assert first["routing_key"] == ROUTING_KEY
    assert first["payload"]["summary"].startswith("High error rate on api-1")
    assert first["payload"]["severity"] == "critical"
    assert first["payload"]["timestamp"].startswith("2024-05-01T10:00:00.123456")
    assert first["payload"]["custom_details"]["instance"] == "api-1:9090"
    hrefs = [link["href"] for link in first["links"]]
    assert hrefs[0].startswith("http://prometheus.example.com:9090/graph")
    assert "https://runbooks.example.com/high-error-rate" in hrefs
    assert (second["dedup_key"], second["payload"]["severity"]) == ("b2c3d4e5f6071829", "critical")
    # the resolve names the incident the first alert opened, and nothing else
    assert events[2] == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": "a1b2c3d4e5f60718",
    }
    assert len(log["deliveries"]) == 3
    assert all(d["status"] == "delivered" for d in log["deliveries"])
    assert ROUTING_KEY not in json.dumps(log)
    assert ROUTING_KEY.encode() not in stored_bytes(served.db)


def test_a_tenant_query_parameter_and_a_bad_payload(serve: Any, recorder: RecordingServer) -> None:
    env = {"PD_KEY": ROUTING_KEY, "NOTIFY_REROUTE": f"{PAGERDUTY}={recorder.url}"}
    served: Served = serve(CONFIG, "--no-worker", env=env)
    with served.client() as client:
        answer = client.post("/v1/alertmanager", params={"tenant": "acme"}, json=FIRING)
        rows = client.get("/v1/deliveries", params={"tenant": "acme"}).json()["deliveries"]
        broken = client.post("/v1/alertmanager", json={**FIRING, "alerts": [{"labels": {}}]})
    assert answer.status_code == 202
    assert len(rows) == 2 and {r["tenant"] for r in rows} == {"acme"}
    assert broken.status_code == 422
    assert broken.json()["error"] == "body.alerts.status: Field required"


@pytest.mark.parametrize(
    ("label", "severity"),
    [
        ("critical", Severity.CRITICAL),
        ("PAGE", Severity.CRITICAL),
        ("P1", Severity.CRITICAL),
        ("error", Severity.ERROR),
        ("major", Severity.ERROR),
        ("warning", Severity.WARNING),
        ("warn", Severity.WARNING),
        ("info", Severity.INFO),
        ("none", Severity.INFO),
        ("whatever", Severity.WARNING),
        (None, Severity.WARNING),
    ],
)
def test_severity_labels_map_to_notify_severities(label: str | None, severity: Severity) -> None:
    assert severity_of(label) is severity


def test_an_alert_without_annotations_or_fingerprint_still_makes_a_stable_message() -> None:
    payload = AlertmanagerIn.model_validate(
        {
            "status": "firing",
            "alerts": [
                {"status": "firing", "labels": {"alertname": "Disk Full!", "host": "db-1"}},
                {"status": "firing", "labels": {"host": "db-1", "alertname": "Disk Full!"}},
            ],
        }
    )
    first, again = alert_messages(payload)
    assert first.title == "Disk Full!"
    assert first.event == "alertmanager.Disk_Full"
    assert first.severity is Severity.WARNING
    assert first.dedup_key == again.dedup_key and first.dedup_key
    assert [(f.name, f.value) for f in first.fields] == [("host", "db-1")]
    assert first.actions == ()
