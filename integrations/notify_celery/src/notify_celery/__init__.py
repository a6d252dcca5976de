"""notify on Celery: deliveries run as tasks on the workers and broker an application runs.

- ``[notify] executor = "celery"``: ``Notifier.send``/``emit`` store the deliveries and
  publish one ``notify.deliver`` task per delivery id (:class:`CeleryExecutor`);
- the workers run them: ``celery -A notify_celery.app worker`` (the standalone app), or
  the application's own app after :func:`setup`; Celery beat runs ``notify.sweep``;
- ``[notify] limiter = "redis://…"`` paces every worker together.

Nothing here imports Celery until it is needed: the entry point
(``notify_core.executors``: ``celery``) is this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._executor import CeleryExecutor
from ._publish import DELIVER, SWEEP
from ._settings import CelerySettings

if TYPE_CHECKING:
    from ._app import make_app
    from ._tasks import setup

__all__ = ["DELIVER", "SWEEP", "CeleryExecutor", "CelerySettings", "make_app", "setup"]


def __getattr__(name: str) -> Any:
    """``setup`` and ``make_app`` import Celery: loaded when first asked for."""
    if name == "setup":
        from ._tasks import setup

        return setup
    if name == "make_app":
        from ._app import make_app

        return make_app
    raise AttributeError(f"module 'notify_celery' has no attribute {name!r}")
