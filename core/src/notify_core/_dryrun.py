"""``--dry-run``: what a send would store and send, routed, validated and built, and nothing done.

It must not create a database that does not exist (a dry run on a fresh machine leaves
no file behind), so what it foresees from the store it reads only from one already there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from ._acceptance import switch_reason
from ._channel import Channel
from ._models import Message
from ._outbox import payload_record
from ._pipeline import Pipeline
from ._results import PlannedDelivery
from ._routing import for_tenant
from ._store import is_postgres


def plan(
    pipeline: Pipeline, channels: Sequence[Channel], message: Message, tenant: str | None
) -> list[PlannedDelivery]:
    """One planned delivery per routed channel, its payload masked as the store keeps it."""
    planned = []
    stored = pipeline.store_opened or os.path.exists(pipeline.db_path)
    for channel in channels:
        prepared = pipeline.targets.prepare(channel)
        as_built = for_tenant(channel, tenant)
        key = pipeline.providers.thread_key(as_built, message, prepared.target)
        row_tenant = None if channel.adhoc else tenant
        thread = pipeline.outbox.thread_data(channel, row_tenant, key) if stored else None
        payload = pipeline.providers.build(as_built, message, "dry-run", prepared.target, thread)
        planned.append(
            PlannedDelivery(
                channel=channel.name,
                tenant=channel.tenant,
                provider=channel.provider,
                target=prepared.display,
                payload=json.loads(payload_record(payload, prepared.masker)),
                skip=foreseen_skip(pipeline, channel),
            )
        )
    return planned


def foreseen_skip(pipeline: Pipeline, channel: Channel) -> str | None:
    """The skip a dry run can foresee without creating a store that does not exist."""
    missing = not is_postgres(pipeline.db_path) and not os.path.exists(pipeline.db_path)
    if not pipeline.store_opened and missing:
        return switch_reason(channel, pipeline.env)
    return pipeline.acceptance.off_reason(channel)
