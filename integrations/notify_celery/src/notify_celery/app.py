"""``celery -A notify_celery.app worker`` / ``beat``: the standalone app, from notify.toml.

The notify configuration is ``$NOTIFY_CONFIG``, else ``./notify.toml``; its ``[celery]``
table gives the broker and the queue.
"""

from __future__ import annotations

from ._app import make_app

app = make_app()
