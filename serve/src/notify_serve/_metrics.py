"""Prometheus metrics, on a registry of this server's own (never the global one).

Two kinds, and the docs say which is which:

- *Counters and the histogram* count what this process did (its API, its in-process
  worker, its retries and tests). Like every Prometheus counter they start at zero when
  the process starts, which ``rate()`` and ``increase()`` treat as a reset; nothing is
  double counted, since each delivery's end is reported once, by whoever reached it.
- *Gauges* are read from the store at each scrape, so they cover every process sharing
  it and survive restarts: the outbox backlog, its oldest pending age, the stored
  deliveries by status, each channel's switch and failure streak.

Labels are provider, channel key (``tenant/channel``), status and outcome: never a URL,
a target or anything else that could hold a secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from notify_core import DeliveryResult, Notifier, Progress

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_FINAL = frozenset({"delivered", "failed", "skipped"})
_STATUSES = ("pending", "sending", "delivered", "failed", "skipped")
#: Attempt durations: loopback sinks answer in a millisecond, providers in 50–500 ms, and a
#: timed-out attempt takes the channel's timeout (10 s by default).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _key(result: DeliveryResult) -> str:
    return f"{result.tenant}/{result.channel}" if result.tenant else result.channel


class Metrics:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.registry = CollectorRegistry(auto_describe=True)
        self.notifications = Counter(
            "notify_notifications",
            "Deliveries that reached a final status in this process.",
            ["provider", "channel", "status"],
            registry=self.registry,
        )
        self.attempts = Counter(
            "notify_attempts",
            "Delivery attempts made by this process, by how they ended (delivered, retry, failed).",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "notify_delivery_duration_seconds",
            "How long one delivery attempt took, from sending to the provider's answer.",
            ["provider"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "notify_rate_limited",
            "Provider answers that said 429 Too Many Requests (retried, at no attempt cost).",
            ["provider"],
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(notifier))

    # -- what the pipeline reports ---------------------------------------------------

    def attempt(self, progress: Progress) -> None:
        """``Notifier.observe``: every recorded attempt of every send, retry and worker."""
        if progress.phase == "attempt":  # started, not yet recorded
            return
        self.attempts.labels(progress.provider, progress.outcome).inc()
        self.duration.labels(progress.provider).observe(progress.duration or 0.0)
        if progress.http_status == 429:
            self.rate_limited.labels(progress.provider).inc()

    def results(self, results: Iterable[DeliveryResult]) -> None:
        """Count the deliveries among ``results`` that are over (the others end later)."""
        for result in results:
            if result.status in _FINAL:
                self.notifications.labels(result.provider, _key(result), result.status).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _StoreCollector(Collector):
    """Gauges read from the store at scrape time: true across processes and restarts."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    def describe(self) -> Iterator[Metric]:
        return iter(())  # created per scrape; nothing to declare up front

    def collect(self) -> Iterator[Metric]:
        store = self.notifier.store
        counts = store.counts()
        pending = GaugeMetricFamily(
            "notify_outbox_pending",
            "Deliveries waiting in the outbox (pending or being sent), every process.",
        )
        pending.add_metric([], counts.get("pending", 0) + counts.get("sending", 0))
        yield pending
        oldest = store.oldest_pending()
        age = GaugeMetricFamily(
            "notify_outbox_oldest_pending_age_seconds",
            "Age of the oldest delivery still pending or being sent (0 when none).",
        )
        age.add_metric([], max(0.0, store.clock.time() - oldest) if oldest is not None else 0.0)
        yield age
        stored = GaugeMetricFamily(
            "notify_deliveries_stored",
            "Deliveries in the store by status (until `notify prune` removes them).",
            labels=["status"],
        )
        for status in _STATUSES:
            stored.add_metric([status], counts.get(status, 0))
        yield stored
        states = store.channel_states()
        enabled = GaugeMetricFamily(
            "notify_channel_enabled",
            "1 when the channel may be sent to, 0 when it is switched off.",
            labels=["channel", "provider"],
        )
        failures = GaugeMetricFamily(
            "notify_channel_consecutive_failures",
            "Permanent failures in a row (auto-disable acts on it).",
            labels=["channel", "provider"],
        )
        for channel in self.notifier.config.all_channels():
            labels = [channel.key, channel.provider]
            on = self.notifier.acceptance.off_reason(channel) is None
            enabled.add_metric(labels, 1.0 if on else 0.0)
            state = states.get(channel.key)
            failures.add_metric(labels, state.consecutive_failures if state else 0)
        yield enabled
        yield failures
