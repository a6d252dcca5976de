"""The standalone Celery app: for a team that runs Celery for notify alone.

``celery -A notify_celery.app worker`` and ``celery -A notify_celery.app beat`` load
:mod:`notify_celery.app`, which calls :func:`make_app` with the notify configuration
(``$NOTIFY_CONFIG``, else ``./notify.toml``). An application with its own Celery app
calls :func:`notify_celery.setup` on it instead.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from notify_core import Config, Notifier

from ._settings import CelerySettings
from ._tasks import setup

if TYPE_CHECKING:
    from celery import Celery


def configure(app: Celery, settings: CelerySettings) -> None:
    """What notify's tasks need of an app of their own: at-least-once, one message ahead."""
    app.conf.update(
        broker_url=settings.broker,
        task_default_queue=settings.queue,
        # a task is acknowledged after it ran, and given back if its process dies
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # with late acks, a prefetched message is one a killed worker holds hostage
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        # notify's tasks carry ids and numbers: JSON, never pickle
        task_serializer="json",
        accept_content=["json"],
    )


def make_app(config: str | os.PathLike[str] | Config | None = None) -> Celery:
    """A Celery app of notify's own, with its tasks and the sweep's beat schedule."""
    from celery import Celery

    loaded = config if isinstance(config, Config) else Notifier.from_config(config).config
    settings = CelerySettings.from_config(loaded)
    if settings.broker is None:
        from notify_core import ConfigError

        raise ConfigError(
            "missing: the standalone app (notify_celery.app) needs a broker URL; with "
            "celery.app set, run your application's own app",
            source=loaded.source,
            path="celery.broker",
        )
    app = Celery("notify", set_as_current=False)
    configure(app, settings)
    return setup(app, loaded)
