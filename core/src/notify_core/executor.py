"""Everything an executor (where deliveries are attempted) imports, in one namespace.

::

    from notify_core.executor import Executor, TaskRunner, Step

An executor is named by ``[notify] executor`` and found through the
``notify_core.executors`` entry point group (``celery = "notify_celery:CeleryExecutor"``):
a factory called with the :class:`~notify_core.Notifier`, returning an
:class:`Executor`. The default, :class:`LocalExecutor`, attempts in the sending process.
An executor that hands deliveries to a task queue runs :class:`TaskRunner` in the queue's
workers: one stored delivery by id, one attempt, and a :class:`Step` saying when (if
ever) the task must run again. The configuration's own table for the executor (``[celery]``)
is ``Config.executor_settings``; :func:`parse_duration` and :func:`masked_service_url`
read and show it the way the core does.
"""

from __future__ import annotations

from ._duration import parse_duration
from ._errors import LimiterUnavailable
from ._executor import EXECUTORS_GROUP, Executor, ExecutorFactory, LocalExecutor, load_executor
from ._limits_redis import masked_url as masked_service_url
from ._masking import Masker, url_secrets
from ._outbox import Accepted
from ._queue_worker import Step, TaskRunner
from ._routing import ADHOC_PREFIX

__all__ = [
    "ADHOC_PREFIX",
    "EXECUTORS_GROUP",
    "Accepted",
    "Executor",
    "ExecutorFactory",
    "LimiterUnavailable",
    "LocalExecutor",
    "Masker",
    "Step",
    "TaskRunner",
    "load_executor",
    "masked_service_url",
    "parse_duration",
    "url_secrets",
]
