"""A rate limiter shared by every process that talks to one Redis: GCRA in a Lua script.

Per-process token buckets let two workers each send at the full rate, so the provider
answers 429. Here the state of a destination is one key in Redis, updated atomically by
one script, so any number of processes on any number of hosts share one pace.

The protocol every limiter implements (the core will own it; copied here until then)::

    class Limiter(Protocol):
        async def reserve(self, destination: str, rate: Rate) -> float:
            '''Reserve the next send slot for `destination`; return seconds to wait before
            sending (0.0 = now). Reservations queue: concurrent callers (any process) get
            consecutive slots.'''
        async def unreserve(self, destination: str, rate: Rate) -> None:
            '''Give back a slot reserved but not used (the attempt was cancelled).'''
        async def aclose(self) -> None: ...

The script (:data:`GCRA_LUA`) is the math of :mod:`._limits_gcra`, line for line, in
integer microseconds:

* ``now`` is Redis's own clock (``TIME``), so the hosts' clocks never need to agree;
* the key is ``notify:rate:`` + sha256(destination): destinations are URLs that may carry
  a token, and Redis is no place for a secret (``MONITOR``, ``KEYS``, dumps);
* it stores ``tat`` with a TTL of ``tat - now`` (rounded up to a millisecond): a key that
  expires was idle anyway (a past TAT means "idle"), so idle destinations cost nothing;
* one key per call (``KEYS[1]``), so it runs unchanged on Redis Cluster;
* it is sent with EVALSHA and loaded again when Redis answers NOSCRIPT (after a restart
  or ``SCRIPT FLUSH``), which redis-py's ``register_script`` does for us.

Failures. redis-py reconnects by itself: a command on a connection that a Redis restart
broke is retried (``retries`` times, with a short exponential backoff), so a restart
costs the caller a few milliseconds and nothing else. When Redis stays unreachable past
the retries (or does not answer within ``timeout``), :class:`LimiterUnavailable` is raised,
with the URL masked: the caller decides whether to wait, fail the attempt, or fall back to
a local limit. Two consequences to know about:

* a restart loses the pacing state (the tests' Redis keeps nothing; a production Redis
  loses what came after its last save): the first reservations after it may go at once
  although slots reserved before it are still pending: at most one burst too many;
* a reply lost to a broken connection makes the retry reserve a second slot: a slot
  wasted (a little slower than the rate), never a send faster than it.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Any

from ._channel import Rate
from ._errors import LimiterUnavailable
from ._limits_gcra import US, interval_us
from ._masking import Masker, masked_location, url_secrets

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

#: The GCRA step of ``_limits_gcra.gcra_reserve`` / ``gcra_unreserve`` in Lua.
#: KEYS[1]: the destination's key. ARGV[1]: emission interval T in µs (integer ≥ 1);
#: ARGV[2]: burst (integer ≥ 1); ARGV[3]: "reserve" or "unreserve".
#: Returns {delay_us, now_us} (delay 0 for "unreserve"): now_us lets tests replay the
#: Python math on Redis's clock and check both agree.
GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local stored = tonumber(redis.call('GET', KEYS[1]))
local tat = now
if stored ~= nil and stored > now then tat = stored end
if ARGV[3] == 'reserve' then
  local delay = tat - interval * (burst - 1) - now
  if delay < 0 then delay = 0 end
  local new_tat = tat + interval
  redis.call('SET', KEYS[1], string.format('%d', new_tat),
             'PX', math.ceil((new_tat - now) / 1000))
  return {delay, now}
end
local new_tat = tat - interval
if new_tat > now then
  redis.call('SET', KEYS[1], string.format('%d', new_tat),
             'PX', math.ceil((new_tat - now) / 1000))
else
  redis.call('DEL', KEYS[1])
end
return {0, now}
"""

DEFAULT_PREFIX = "notify:rate:"


def masked_url(url: str) -> str:
    """``url`` with ``***`` in its password's place (and in secret query values' places).

    By position (:func:`~notify_core._masking.masked_location`), so a host or database
    name that contains the password's text is shown as written, not half masked.
    """
    return masked_location(url)


def key_for(destination: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The Redis key of ``destination``: hashed, since a destination may hold a token."""
    return prefix + hashlib.sha256(destination.encode()).hexdigest()


class RedisLimiter:
    """GCRA rate limits in Redis, shared by every process using the same Redis (and prefix).

    ``url`` is a redis-py URL (``redis://[:password@]host:port/db``, ``rediss://`` for TLS,
    ``unix://``); its password is a secret and appears in no repr and no error. ``timeout``
    bounds each connect and each command (seconds); ``retries`` is how many times a
    command is retried on a connection error; ``deadline`` bounds one call, retries
    included, so that a Redis that hangs (rather than refuses) costs a send at most that
    long before :class:`LimiterUnavailable`. Connections are opened on first use, in the
    running event loop, at most ``connections`` of them (callers beyond wait their turn).
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = 1.0,
        retries: int = 6,
        deadline: float = 3.0,
        connections: int = 16,
    ) -> None:
        try:
            import redis.asyncio as aioredis
            from redis.asyncio.retry import Retry
            from redis.backoff import ExponentialWithJitterBackoff
            from redis.exceptions import RedisError
        except ImportError:
            raise ImportError("RedisLimiter needs redis-py: pip install redis") from None
        self._masked = masked_url(url)
        self._secrets = Masker(url_secrets(url))
        self.prefix = prefix
        self.deadline = deadline
        self._errors: tuple[type[Exception], ...] = (RedisError, OSError)
        try:
            # A blocking pool: more concurrent reservations than connections wait for one
            # (a script takes a fraction of a millisecond) instead of failing with "Too
            # many connections", as redis-py's default pool does past its 100.
            pool = aioredis.BlockingConnectionPool.from_url(
                url,
                max_connections=connections,
                timeout=deadline,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                # 10, 20, 40… ms (jittered) up to 250 ms: a restart is over in tens of
                # milliseconds, and a caller waiting for a send slot should hear
                # "unavailable" within a second, not after redis-py's default ten retries.
                retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.25), retries),
            )
            self._client: Redis = aioredis.Redis.from_pool(pool)
        except ValueError as exc:  # a malformed URL: say so without repeating it
            raise ValueError(f"not a Redis URL: {self._masked} ({type(exc).__name__})") from None
        self._script: AsyncScript = self._client.register_script(GCRA_LUA)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisLimiter:
        """The same as ``RedisLimiter(url, **kwargs)``, in redis-py's spelling."""
        return cls(url, **kwargs)

    def __repr__(self) -> str:
        return f"RedisLimiter({self._masked!r}, prefix={self.prefix!r})"

    async def _call(self, op: str, destination: str, rate: Rate) -> tuple[int, int]:
        """Run the script: ``(delay_us, now_us)``, ``now_us`` being Redis's clock."""
        call = self._script(
            keys=[key_for(destination, self.prefix)],
            args=[interval_us(rate), rate.burst, op],
        )
        try:
            delay, now = await asyncio.wait_for(call, self.deadline)
        except asyncio.TimeoutError:
            raise LimiterUnavailable(
                f"rate limiter: Redis at {self._masked} did not {op} a slot within "
                f"{self.deadline:g} s"
            ) from None
        except self._errors as exc:
            detail = self._secrets.text(str(exc)) or type(exc).__name__
            raise LimiterUnavailable(
                f"rate limiter: Redis at {self._masked} failed to {op} a slot: {detail}"
            ) from None  # redis-py's own errors may name the connection: keep them out
        return int(delay), int(now)

    async def reserve(self, destination: str, rate: Rate) -> float:
        """Reserve the next send slot for ``destination``; seconds to wait (0.0 = now).

        Reservations queue: concurrent callers, in any process, get consecutive slots.
        """
        delay, _ = await self._call("reserve", destination, rate)
        return delay / US

    async def unreserve(self, destination: str, rate: Rate) -> None:
        """Give back a slot reserved but not used (the attempt was cancelled).

        As with the token bucket, what is given back is the *latest* slot: exact when the
        cancelled reservation was the last one, and otherwise the next caller shares the
        last queued caller's time (see the note on the core's ``Limiter`` protocol).
        """
        await self._call("unreserve", destination, rate)

    async def aclose(self) -> None:
        """Close the connections (the limiter can not be used afterwards)."""
        await self._client.aclose()

    async def __aenter__(self) -> RedisLimiter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
