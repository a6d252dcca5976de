"""A job: one delivery ready to attempt, secrets included, held in memory only.

The outbox makes jobs (from a new message, or from a stored row); the dispatcher runs
them. Nothing here is ever written anywhere: the store holds the masked forms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._channel import Channel, Rate, RetryPolicy
from ._masking import Masker
from ._models import Message
from ._provider import Payload, Target


@attrs.frozen(kw_only=True)
class ThreadRef:
    """A delivery's place in a thread: the store's key for it, and how to build it then.

    ``channel``/``tenant`` are the delivery row's (a tenant falling back to a root
    channel has threads of its own). ``build`` makes the payload from the thread's
    metadata as the store holds it when the attempt starts.
    """

    channel: str
    tenant: str | None
    key: str
    build: Callable[[Mapping[str, Any] | None], Payload] = attrs.field(eq=False, repr=False)


@attrs.define(kw_only=True)
class Job:
    id: str
    channel: Channel
    target: Target
    message: Message
    payload: Payload
    masker: Masker
    rate: Rate
    retry: RetryPolicy
    attempts: int = 0
    #: attempts made before the current retry budget began (a manual ``notify retry``
    #: grants a fresh budget; the attempt numbers keep counting).
    budget_from: int = 0
    #: set when the provider threads this message (see ``thread_key``): the payload is
    #: built again, with the thread's metadata, when each attempt starts
    thread: ThreadRef | None = None
    #: attempts of the current budget the provider answered "slow down": free of charge
    throttled: int = 0
    #: when the current budget began (acceptance, or a manual retry): the retry
    #: deadline counts from here
    since: float = 0.0

    @property
    def budget_used(self) -> int:
        """Attempts that count against ``retry.attempts``: not the throttled ones."""
        return self.attempts - self.budget_from - self.throttled

    @property
    def destination(self) -> str:
        return destination_key(self.channel, self.target)


def destination_key(channel: Channel, target: Target) -> str:
    """What one rate limit paces: by default an endpoint *and* the credentials used on it.

    Two PagerDuty channels post to one URL with different routing keys, and PagerDuty
    limits each key separately; a hash keeps the secrets out of the key. A plugin that
    knows better names the destination itself (``Target.destination``: a chat on a
    shared bot token).
    """
    if target.destination:
        return f"{channel.provider} {target.destination}"
    import hashlib  # per job, not per import: a send that only queues makes no job

    scope = hashlib.sha256("\0".join(target.secrets).encode()).hexdigest()[:16]
    return f"{channel.provider} {target.url} {scope}"
