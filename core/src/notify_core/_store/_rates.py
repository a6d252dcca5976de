"""What every backend shares about the ``rate_limits`` table: keys, and turning a TAT into a wait.

The table holds GCRA state (:mod:`notify_core._limits_gcra`): one theoretical arrival time
(TAT) per destination, in integer microseconds. A reservation is one atomic statement,
``tat = max(tat, now) + T`` (an insert when the destination has no row), whose result
gives the wait :func:`~notify_core._limits_gcra.gcra_delay`; giving a slot back is
``tat = max(tat - T, now)``. Both are :func:`~notify_core._limits_gcra.gcra_reserve` and
:func:`~notify_core._limits_gcra.gcra_unreserve` written as SQL.

Destinations are URLs that may carry a token: only their hash is stored.
"""

from __future__ import annotations

import hashlib

US = 1_000_000


def rate_key(destination: str) -> str:
    """The stored key of ``destination``: its SHA-256, never the destination itself."""
    return hashlib.sha256(destination.encode()).hexdigest()
