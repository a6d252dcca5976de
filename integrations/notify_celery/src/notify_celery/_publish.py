"""Publishing ``notify.deliver`` tasks: a delivery id, and when to run it.

Publishing never decides whether a delivery survives: the row is in the store before its
task is published, so a broker that cannot be reached costs time, not messages (the
sweep publishes what no task carries). A publish therefore tries briefly, logs one
masked line and reports how many went out; it does not raise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from notify_core.executor import Masker, url_secrets

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger("notify.celery")

DELIVER = "notify.deliver"
SWEEP = "notify.sweep"

#: A broker that is down answers within this (kombu's publish retries), so a send that
#: stored its rows returns promptly instead of hanging on the broker.
RETRY_POLICY = {"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2, "interval_max": 0.5}


class Item:
    """One task to publish: a delivery, when to run it, and what it carries along."""

    __slots__ = ("at", "budget_from", "delivery_id", "explicit", "slot")

    def __init__(
        self,
        delivery_id: str,
        *,
        at: float | None = None,
        slot: float | None = None,
        budget_from: int = 0,
        explicit: bool = False,
    ) -> None:
        self.delivery_id = delivery_id
        self.at = at
        self.slot = slot
        self.budget_from = budget_from
        self.explicit = explicit

    def kwargs(self) -> dict[str, Any]:
        """Only what differs from the defaults: most messages carry the id alone."""
        out: dict[str, Any] = {}
        if self.slot is not None:
            out["slot"] = self.slot
        if self.budget_from:
            out["budget_from"] = self.budget_from
        if self.explicit:
            out["explicit"] = True
        return out


class Publisher:
    """Publishes notify's tasks through ``app`` to ``queue``."""

    def __init__(self, app: Celery, queue: str, *, broker: str | None = None) -> None:
        self.app = app
        self.queue = queue
        self._masker = Masker(url_secrets(broker or str(app.conf.broker_url or "")))

    def publish(self, items: Iterable[Item]) -> int:
        """Publish every item (one producer for all); the number published."""
        items = list(items)
        if not items:
            return 0
        sent = 0
        try:
            with self.app.producer_or_acquire() as producer:
                for item in items:
                    countdown = None if item.at is None else max(0.0, item.at - time.time())
                    self.app.send_task(
                        DELIVER,
                        args=(item.delivery_id,),
                        kwargs=item.kwargs(),
                        countdown=countdown,
                        queue=self.queue,
                        producer=producer,
                        add_to_parent=False,
                        retry=True,
                        retry_policy=RETRY_POLICY,
                    )
                    sent += 1
        except Exception as exc:  # the broker: kombu and redis-py raise many kinds
            detail = self._masker.text(str(exc)) or type(exc).__name__
            log.warning(
                "notify: %d of %d deliveries stored but not published (%s: %s); the sweep "
                "publishes them once they are overdue",
                len(items) - sent,
                len(items),
                type(exc).__name__,
                detail,
            )
        return sent

    def backlog(self) -> int | None:
        """Messages waiting in the queue (not those workers hold); None if it cannot tell."""
        from kombu.exceptions import ChannelError

        try:
            with self.app.connection_for_write() as connection:
                channel: Any = connection.default_channel  # kombu's stubs lack queue_declare
                declared = channel.queue_declare(self.queue, passive=True)
                return int(declared.message_count)
        except ChannelError:  # no such queue (an empty Redis list does not exist)
            return 0
        except Exception:
            return None

    def sweep(self, *, expires: float | None = None) -> bool:
        """Publish one sweep now (beat does this on its schedule)."""
        try:
            self.app.send_task(
                SWEEP, queue=self.queue, expires=expires, add_to_parent=False, retry=False
            )
        except Exception as exc:
            log.warning("notify: sweep not published: %s", self._masker.text(str(exc)))
            return False
        return True
