"""The ``[celery]`` table of ``notify.toml``: read once, every error naming its key.

::

    [notify]
    executor = "celery"
    limiter = "redis://127.0.0.1:6379/1"      # one pace per destination for every worker

    [celery]
    broker = "redis://127.0.0.1:6379/0"       # the standalone app's broker
    # app = "myapp.celery:app"                # or publish through the application's own app
    queue = "notify"
    sweep_every = "30s"                       # beat runs the sweep this often
    sweep_after = "60s"                       # a delivery overdue this long lost its task
    max_pace_wait = "1s"                      # longer waits for a rate-limit slot: re-published

The core has already interpolated ``${ENV}`` references; a broker URL's password is never
shown, only the masked URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from notify_core import Config, ConfigError
from notify_core.executor import masked_service_url, parse_duration

KEYS = ("broker", "app", "queue", "sweep_every", "sweep_after", "max_pace_wait")
_QUEUE = re.compile(r"[A-Za-z0-9_.:-]+\Z")
_APP = re.compile(r"[A-Za-z_][\w.]*(:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?\Z")


@attrs.frozen(kw_only=True)
class CelerySettings:
    """What notify_celery needs to publish, run and sweep deliveries."""

    #: The configuration file these came from (errors name it).
    source: str = "<memory>"
    #: Broker URL of the standalone app (``redis://…``); None when ``app`` is given.
    broker: str | None = None
    #: ``module:attribute`` of the application's own Celery app, to publish through.
    app: str | None = None
    queue: str = "notify"
    sweep_every: float = 30.0
    sweep_after: float = 60.0
    max_pace_wait: float = 1.0

    @property
    def masked_broker(self) -> str:
        return masked_service_url(self.broker) if self.broker else "(the application's broker)"

    def __repr__(self) -> str:  # the broker URL may carry a password
        return (
            f"CelerySettings(broker={self.masked_broker!r}, app={self.app!r}, queue={self.queue!r})"
        )

    @classmethod
    def from_config(cls, config: Config) -> CelerySettings:
        if config.executor != "celery":
            raise ConfigError(
                'notify_celery needs executor = "celery" (its settings go in [celery])',
                source=config.source,
                path="notify.executor",
            )
        return cls.read(config.executor_settings, source=config.source)

    @classmethod
    def read(cls, table: Mapping[str, Any], *, source: str = "<memory>") -> CelerySettings:
        """Validate a ``[celery]`` table; raises :class:`ConfigError` naming ``celery.<key>``."""

        def error(key: str, message: str) -> ConfigError:
            return ConfigError(message, source=source, path=f"celery.{key}")

        for key in table:
            if key not in KEYS:
                raise error(key, f"unknown key; known keys: {', '.join(KEYS)}")
        kwargs: dict[str, Any] = {"source": source}
        for key in ("broker", "app", "queue"):
            if key in table:
                value = table[key]
                if not isinstance(value, str) or not value.strip():
                    raise error(key, "expected a non-empty string")
                kwargs[key] = value.strip()
        broker = kwargs.get("broker")
        if broker is not None and "://" not in broker:
            raise error(
                "broker", f"expected a broker URL such as redis://host:6379/0, got {broker[:40]!r}"
            )
        if "app" in kwargs and not _APP.match(kwargs["app"]):
            raise error(
                "app", f"expected module:attribute such as myapp.celery:app, got {kwargs['app']!r}"
            )
        if broker is None and "app" not in kwargs:
            raise error(
                "broker",
                "missing: give the broker URL (redis://…), or name your application's "
                "Celery app with celery.app",
            )
        if "queue" in kwargs and not _QUEUE.match(kwargs["queue"]):
            raise error("queue", f"expected a queue name, got {kwargs['queue']!r}")
        for key in ("sweep_every", "sweep_after", "max_pace_wait"):
            if key in table:
                try:
                    kwargs[key] = parse_duration(table[key])
                except ValueError as exc:
                    raise error(key, str(exc)) from None
        if kwargs.get("sweep_every", 1.0) <= 0:
            raise error("sweep_every", "must be longer than 0s")
        return cls(**kwargs)
