"""The exceptions notify raises on purpose.

Every error a user can cause derives from :class:`NotifyError`, so the CLI can print
one clean line for it and exit 2, and library callers can catch one type. Messages
must never contain a secret in full: they are built from masked values.
"""

from __future__ import annotations


class NotifyError(Exception):
    """Base class of every error notify raises for bad input or configuration."""


class ConfigError(NotifyError):
    """The configuration is wrong; the message names the file and the key path."""

    def __init__(self, message: str, *, source: str | None = None, path: str | None = None):
        self.source = source
        self.path = path
        where = ": ".join(p for p in (source, path) if p)
        super().__init__(f"{where}: {message}" if where else message)


class InvalidTarget(NotifyError):
    """A URL, key or setting does not have the shape the provider expects (raised by plugins).

    ``key`` is the channel key at fault (``url``, ``routing_key``, ``settings.method``), so
    configuration errors point at the line to fix.
    """

    def __init__(self, message: str, *, key: str = "url") -> None:
        super().__init__(message)
        self.key = key


class UnknownProvider(NotifyError):
    """No installed plugin provides the requested provider."""


class TemplateError(NotifyError):
    """An event template refers to a key the event data lacks, or uses forbidden syntax."""


class PayloadError(NotifyError):
    """A message cannot be turned into a payload the provider would accept."""


class StoreError(NotifyError):
    """The store (SQLite or PostgreSQL) cannot be opened or written."""


class StoreUnavailable(StoreError):
    """The database cannot be reached right now (a restart, a network cut): try again.

    A worker rides it out (it logs one line, backs off and carries on); a command that
    needs the database now prints it and exits 2. The message never holds a password.
    """


class LimiterUnavailable(NotifyError):
    """The shared rate limiter's store (Redis) cannot be reached or refused the command."""
