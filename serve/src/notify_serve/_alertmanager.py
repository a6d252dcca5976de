"""Alertmanager's webhook (version 4) as notify messages: one message per alert.

An alert's fingerprint is its identity across notifications, so it is the message's
``dedup_key``; ``firing`` is the incident state ``trigger`` and ``resolved`` is
``resolve``: a PagerDuty channel opens the incident with the alert and closes it
with it. ``summary``/``description`` annotations and the ``severity`` label are
conventions (DESIGN §6), not guarantees, so each has a fallback.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from typing import Any

from notify_core import Action, Field, Message, Severity

from ._schemas import AlertIn, AlertmanagerIn

#: Severity label values seen in the wild (Prometheus rule packs, PagerDuty, OpsGenie,
#: syslog levels, P1–P5), lower-cased. Anything else is a warning: an alert is by
#: nature something that needs a look, but not necessarily a page.
SEVERITIES: dict[str, Severity] = {
    **dict.fromkeys(
        ("critical", "crit", "page", "fatal", "emergency", "emerg", "alert", "disaster",
         "high", "p1", "sev1", "s1"),
        Severity.CRITICAL,
    ),
    **dict.fromkeys(("error", "err", "major", "p2", "sev2", "s2"), Severity.ERROR),
    **dict.fromkeys(
        ("warning", "warn", "minor", "medium", "average", "p3", "sev3", "s3"), Severity.WARNING
    ),
    **dict.fromkeys(
        ("info", "informational", "information", "notice", "low", "none", "ok", "debug",
         "p4", "p5", "sev4", "sev5", "s4", "s5"),
        Severity.INFO,
    ),
}  # fmt: skip
_EVENT_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]+")


def severity_of(label: str | None) -> Severity:
    if label is None:
        return Severity.WARNING
    return SEVERITIES.get(label.strip().lower(), Severity.WARNING)


def fingerprint_of(alert: AlertIn) -> str:
    """Alertmanager's own fingerprint; for a sender that omits it, a hash of the labels."""
    if alert.fingerprint:
        return alert.fingerprint
    text = "\0".join(f"{k}\0{v}" for k, v in sorted(alert.labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def event_name(alertname: str) -> str:
    """``alertmanager.<alertname>``, so channels route alerts with ``events = [...]`` globs."""
    return "alertmanager." + (_EVENT_UNSAFE.sub("_", alertname).strip("_") or "alert")


def _when(text: str | None) -> datetime | None:
    """Alertmanager's RFC 3339 times; its "zero" time (year 1) means "not set"."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        # Go writes nanoseconds; Python before 3.11 reads at most microseconds
        trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
        try:
            when = datetime.fromisoformat(trimmed)
        except ValueError:
            return None
    if when.year <= 1:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _link(url: str | None) -> str | None:
    return url if url and url.startswith(("https://", "http://")) else None


def alert_messages(payload: AlertmanagerIn) -> list[Message]:
    """One message per alert, in the payload's order."""
    return [alert_message(alert, payload) for alert in payload.alerts]


def alert_message(alert: AlertIn, payload: AlertmanagerIn) -> Message:
    labels = {**payload.commonLabels, **alert.labels}
    annotations = {**payload.commonAnnotations, **alert.annotations}
    alertname = labels.get("alertname", "alert")
    firing = alert.status == "firing"
    title = annotations.get("summary") or annotations.get("title") or alertname
    body = annotations.get("description") or annotations.get("message") or ""
    actions = []
    if source := _link(alert.generatorURL):
        actions.append(Action("Source", source))
    if runbook := _link(annotations.get("runbook_url")):
        actions.append(Action("Runbook", runbook))
    if manager := _link(payload.externalURL):
        actions.append(Action("Alertmanager", manager))
    starts, ends = _when(alert.startsAt), _when(alert.endsAt)
    data: dict[str, Any] = {
        "status": alert.status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": alert.startsAt,
        "endsAt": alert.endsAt,
        "generatorURL": alert.generatorURL,
        "fingerprint": fingerprint_of(alert),
        "receiver": payload.receiver,
        "groupKey": payload.groupKey,
        "externalURL": payload.externalURL,
    }
    fields = [Field(name, value) for name, value in labels.items() if name != "alertname"]
    kwargs: dict[str, Any] = {}
    when = starts if firing else (ends or starts)
    if when is not None:
        kwargs["timestamp"] = when
    return Message(
        title=title,
        body=body,
        event=event_name(alertname),
        severity=severity_of(labels.get("severity")),
        fields=fields,
        actions=actions,
        dedup_key=fingerprint_of(alert),
        tags=[f"{k}={v}" for k, v in sorted(payload.groupLabels.items())],
        data=data,
        state="trigger" if firing else "resolve",
        **kwargs,
    )
