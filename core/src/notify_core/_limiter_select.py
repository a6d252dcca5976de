"""Which rate limiter a notifier paces with: ``[notify] limiter``, read in one place.

``local`` (the default) keeps the pace in this process (GCRA, the same math as in
Redis): exact for one sender, but every process has its own, so two workers each send
at the full rate. A ``redis://``
(``rediss://``, ``unix://``) URL shares one pace per destination between every process
and host that talks to that Redis (GCRA in a Lua script, :mod:`._limits_redis`): what
several ``notify worker`` processes or a Celery fleet need. ``store`` names a limiter
kept in the store itself.

The URL may carry a password: it is never shown, only its masked form.
"""

from __future__ import annotations

from ._clock import Clock
from ._errors import ConfigError
from ._limits import Limiter
from ._limits_gcra import GcraLimiter
from ._store import Store

LOCAL = "local"
STORE = "store"
#: URL schemes redis-py connects to.
REDIS_SCHEMES = ("redis", "rediss", "unix")


def check_limiter(setting: str) -> str | None:
    """Why ``setting`` is not a limiter (a phrase without the secret), or None when it is."""
    if setting in (LOCAL, STORE):
        return None
    from urllib.parse import urlsplit

    from ._limits_redis import masked_url

    scheme, sep, _ = setting.partition("://")
    shown = masked_url(setting) if sep else repr(setting[:40])
    if not sep or scheme not in REDIS_SCHEMES:
        return f'expected "local", "store" or a redis:// URL, got {shown}'
    try:
        parts = urlsplit(setting)
        where = parts.path if scheme == "unix" else parts.hostname
        parts.port  # noqa: B018 (a malformed port raises)
    except ValueError:
        where = None
    if not where:
        return f"a {scheme}:// URL needs a {'path' if scheme == 'unix' else 'host'}, got {shown}"
    return None


def limiter_for(setting: str | None, store: Store, clock: Clock) -> Limiter:
    """The limiter ``setting`` names (None: ``local``), made for the running process.

    A Redis limiter connects on first use, in the event loop that uses it; redis-py is
    imported only when one is configured.
    """
    if setting is None or setting == LOCAL:
        return GcraLimiter(clock)
    problem = check_limiter(setting)
    if problem is not None:
        raise ConfigError(problem, path="notify.limiter")
    if setting == STORE:
        # The store-backed limiter lands with the PostgreSQL store (branch `postgres`).
        raise ConfigError(
            f'the store {type(store).__name__} keeps no rate limits; use "local" or a redis:// URL',
            path="notify.limiter",
        )
    from ._limits_redis import RedisLimiter

    try:
        return RedisLimiter(setting)
    except ImportError:
        raise ConfigError(
            "a redis:// limiter needs redis-py: pip install redis", path="notify.limiter"
        ) from None
    except ValueError as exc:  # already masked by RedisLimiter
        raise ConfigError(str(exc), path="notify.limiter") from None
