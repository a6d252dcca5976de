"""``celery -A notify_celery.app worker`` / ``beat``: the standalone app, from notify.toml.

The notify configuration is ``$NOTIFY_CONFIG``, else ``./notify.toml``; its ``[celery]``
table gives the broker and the queue.
"""

from __future__ import annotations

from notify_core import NotifyError

from ._app import make_app

try:
    app = make_app()
except NotifyError as exc:  # one line, not the traceback the celery command would print
    raise SystemExit(f"notify_celery: {exc}") from None
