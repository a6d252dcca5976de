"""Test kit for notify and its plugins (a pytest plugin, enabled explicitly).

Enable it in a test module (or your top-level ``conftest.py``) with::

    pytest_plugins = ["notify_core.testing"]

It is not auto-loaded, so installing notify-core changes no one's test run. The kit
raises its own ``AssertionError`` messages and needs no assertion rewriting, so a test
module may import from it before pytest registers it (PYTEST_DONT_REWRITE).

Fixtures
    ``recorder``
        a started :class:`RecordingServer` on 127.0.0.1; script answers with
        ``recorder.script(...)`` and read ``recorder.requests``.
    ``notifier_for``
        ``notifier_for(plugin, channel, …)`` makes a :class:`~notify_core.Notifier`
        with only ``plugin`` registered, every URL of the channels rerouted to the
        recorder and any other host refused; its store is in ``tmp_path``.
    ``notify_cli``
        runs the real ``notify`` command in a subprocess from ``tmp_path``
        (see :func:`run_notify`; :func:`run_notify_tty` runs it on a pseudo-terminal).
    ``postgres_server``, ``redis_server`` (session)
        a throw-away :class:`PostgresServer` / :class:`RedisServer` on 127.0.0.1 (real
        ``postgres`` and ``redis-server``; a missing binary fails with the install hint).
        ``restart()`` keeps the port (and PostgreSQL's data) for "server restarted" tests.
    ``postgres_url``, ``redis_url``
        per test: a fresh database (``postgresql://user:password@…``, dropped after) or the
        emptied Redis (``redis://127.0.0.1:port/0``, ``FLUSHALL`` first).

The contract suite
    :class:`ProviderContract` (with :class:`Example`): subclass it in a ``Test…``
    class to check a provider plugin against what notify requires of every provider.
    Its checks are functions too, for tests of your own: :func:`check_valid`,
    :func:`check_invalid`, :func:`check_answer` (which returns the :class:`Outcome` an
    answer reads as, so a test can assert its reason).

Helpers (plain functions and classes: import them, they are not fixtures)
    :func:`group_summary` is the message a grouping channel sends for a burst of ``count``
    items (the contract builds 1, 12 and 200). :class:`FakeClock` moves time by hand
    (``Notifier(clock=FakeClock())``): cooldowns, silences, leases, backoff, group waits
    and digest schedules tested without sleeping. :func:`check_golden` compares
    a payload with a JSON golden file (regenerate with
    ``NOTIFY_UPDATE_GOLDEN=1``); :func:`query` and :func:`stored_bytes` read a store
    the way an operator would, the second for checking that no secret was written.
"""

from __future__ import annotations

from importlib.util import find_spec

from ._cli import CliResult, query, run_notify, stored_bytes
from ._clock import FakeClock
from ._golden import UPDATE_ENV, check_golden
from ._groups import group_summaries, group_summary
from ._local import LoopbackOnlyTransport, local_notifier, providers_for
from ._pty import run_notify_tty
from ._server import Answer, RecordedRequest, RecordingServer

__all__ = [
    "UPDATE_ENV",
    "Answer",
    "CliResult",
    "Example",
    "FakeClock",
    "LoopbackOnlyTransport",
    "PostgresServer",
    "ProviderContract",
    "RecordedRequest",
    "RecordingServer",
    "RedisServer",
    "ServerFailed",
    "ServerNotFound",
    "check_answer",
    "check_golden",
    "check_invalid",
    "check_valid",
    "group_summaries",
    "group_summary",
    "local_notifier",
    "notifier_for",
    "notify_cli",
    "postgres_server",
    "postgres_url",
    "providers_for",
    "query",
    "recorder",
    "redis_server",
    "redis_url",
    "reference_messages",
    "run_notify",
    "run_notify_tty",
    "stored_bytes",
]

if find_spec("pytest") is not None:  # the fixtures and the contract need pytest
    from ._contract import (
        Example,
        ProviderContract,
        check_answer,
        check_invalid,
        check_valid,
        reference_messages,
    )
    from ._fixtures import notifier_for, notify_cli, recorder
    from ._service_fixtures import (
        PostgresServer,
        RedisServer,
        ServerFailed,
        ServerNotFound,
        postgres_server,
        postgres_url,
        redis_server,
        redis_url,
    )
