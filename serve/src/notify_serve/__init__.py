"""notify as a service: an HTTP API, an Alertmanager receiver, metrics and a dashboard.

``notify serve`` (the core's CLI) runs it; an application can also mount the app
itself: ``create_app(Notifier.from_config(...), ServeOptions(...))`` is a FastAPI
(ASGI) application that runs the worker in its lifespan.
"""

from __future__ import annotations

from ._alertmanager import alert_message, alert_messages, severity_of
from ._app import create_app
from ._options import ServeOptions, resolve_options
from ._run import run, serve

__all__ = [
    "ServeOptions",
    "alert_message",
    "alert_messages",
    "create_app",
    "resolve_options",
    "run",
    "serve",
    "severity_of",
]
