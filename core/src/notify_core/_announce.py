"""Announcements: the core's own events, routed through the configuration like any other.

When a channel is switched off automatically, notify emits ``notify.channel.disabled``
(data: ``channel``, ``provider``, ``tenant``, ``reason``, ``last_error``, ``failures``), so
an e-mail or chat channel that takes the event can tell the channel's owner. The
deliveries are written in the same transaction that disabled the channel, so the news
is never lost; this process sends them at once when it can (a worker, a library
caller still waiting), otherwise the next worker does.

It cannot loop: a channel never receives the event about itself, channels that are
off are not routed to, and a channel is disabled (so announced) once until enabled.
"""

from __future__ import annotations

from ._health import Disabled
from ._models import Field, Message, Severity
from ._outbox import Outbox
from ._routing import Router
from ._store import Store

CHANNEL_DISABLED = "notify.channel.disabled"


class Announcer:
    def __init__(self, router: Router, outbox: Outbox, store: Store) -> None:
        self.router = router
        self.outbox = outbox
        self.store = store
        #: ids written and not yet handed to a dispatcher in this process
        self.pending: list[str] = []

    def channel_disabled(self, disabled: Disabled) -> None:
        channel = disabled.channel
        data = {
            "channel": channel.key,
            "provider": channel.provider,
            "tenant": channel.tenant,
            "reason": disabled.reason,
            "last_error": disabled.last_error,
            "failures": disabled.failures,
        }
        template = self.router.config.templates.get(CHANNEL_DISABLED)
        if template is not None:
            message = template.render(data, severity=Severity.ERROR)
        else:
            message = Message(
                title=f"notify disabled channel {channel.key} after {disabled.failures} failures",
                body=(
                    f"Deliveries to {channel.key} ({channel.provider}) failed "
                    f"{disabled.failures} times in a row; the last error was: "
                    f"{disabled.last_error}\n\nIts deliveries are skipped until someone runs "
                    f"`notify enable {channel.name}`"
                    + (f" --tenant {channel.tenant}" if channel.tenant else "")
                    + "."
                ),
                event=CHANNEL_DISABLED,
                severity=Severity.ERROR,
                fields=[
                    Field("channel", channel.key),
                    Field("provider", channel.provider),
                    Field("failures", str(disabled.failures)),
                ],
                dedup_key=f"{CHANNEL_DISABLED}:{channel.key}",
                data=data,
            )
        routed = [
            c
            for c in self.router.route(message, None, channel.tenant)
            if c.key != channel.key and not self.store.channel_state(c.key).off
        ]
        if not routed:
            return
        accepted = self.outbox.accept(message, routed, tenant=channel.tenant, send_now=False)
        accepted.write(self.store)
        self.pending += [job_row.id for job_row in accepted.rows if job_row.status == "pending"]

    def take(self) -> list[str]:
        """The ids written since the last call, for this process to send now."""
        ids, self.pending = self.pending, []
        return ids
