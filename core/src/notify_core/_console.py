"""The ``console`` provider: notifications printed on the terminal, through the real pipeline.

The destination for a first try, a laptop and a test suite: like Django's console
e-mail backend, it shows what would have been sent, while the delivery still goes
through the store, the attempt log and ``notify log`` like any other. It needs no
network, so ``notify send --url console:// -t Hello`` works anywhere.

``console://`` (or ``console://stdout``) prints on standard output, ``console://stderr``
on standard error. A configured channel needs no url (``provider = "console"``).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING

from ._channel import Channel, Rate
from ._errors import InvalidTarget
from ._models import Message
from ._provider import Outcome, Payload, ProviderSpec, SendContext, Target
from ._settings import SettingsReader
from ._text import state_word
from .hookspecs import hookimpl

if TYPE_CHECKING:
    import httpx

NAME = "console"
STREAMS = ("stdout", "stderr")
WIDTH = 72

SPEC = ProviderSpec(
    name=NAME,
    description="Prints notifications on the terminal (development, first steps, tests)",
    default_rate=Rate(per_second=1000, burst=1000),  # a terminal has no rate limit
    url_patterns=(r"console://",),
    capabilities=frozenset({"fields", "actions"}),
    requires_url=False,
)


def render(message: Message, delivery_id: str, tenant: str | None) -> str:
    """The notification as plain text, the way a person reads it in a terminal."""
    state = state_word(message.state)
    head = f"[{message.severity.value.upper()}{' ' + state if state else ''}] {message.title}"
    lines = [f"── {head} ".ljust(WIDTH, "─")]
    if message.body:
        lines.append(message.body.rstrip("\n"))
    width = max((len(f.name) for f in message.fields), default=0)
    lines += [f"  {f.name.ljust(width)}  {f.value}" for f in message.fields]
    lines += [f"  → {a.label}: {a.url}" for a in message.actions]
    where = [f"event {message.event}"] if message.event else []
    where += [f"tenant {tenant}"] if tenant else []
    lines.append(" · ".join([*where, f"delivery {delivery_id}"]))
    return "\n".join(lines) + "\n"


class ConsolePlugin:
    """Registered by the core itself: ``console`` is always there, nothing to install."""

    @hookimpl
    def register_providers(self) -> Sequence[ProviderSpec]:
        return [SPEC]

    @hookimpl
    def validate_url(self, channel: Channel) -> Target | None:
        SettingsReader(NAME, channel.settings, known=())  # a typo'd setting is refused here too
        url = channel.url or "console://"
        stream = url.removeprefix("console://").strip("/") or "stdout"
        if not url.startswith("console://") or stream not in STREAMS:
            raise InvalidTarget(
                "console url must be console://, console://stdout or console://stderr"
            )
        return Target(url=f"console://{stream}", display=f"console://{stream}", state=stream)

    @hookimpl
    def build_payload(self, channel: Channel, message: Message, delivery_id: str) -> Payload:
        return Payload(body=render(message, delivery_id, channel.tenant), content_type="text/plain")

    @hookimpl
    def send(
        self, payload: Payload, context: SendContext, client: httpx.AsyncClient
    ) -> Awaitable[Outcome]:
        return self._print(payload, context)

    async def _print(self, payload: Payload, context: SendContext) -> Outcome:
        stream = sys.stderr if context.target.state == "stderr" else sys.stdout
        stream.write(payload.content().decode())
        stream.flush()
        return Outcome.delivered(f"printed on {context.target.state}")
