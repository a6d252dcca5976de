"""Secrets at rest: what a stored channel keeps encrypted, and the keys that open it.

A stored channel's provider-specific part (its ``url``, the provider's option keys such
as PagerDuty's ``routing_key``, and its whole ``settings`` table) is encrypted with
Fernet (AES-128-CBC with an HMAC-SHA256, from the ``cryptography`` package, an optional
extra: ``pip install 'notify-core[secrets]'``). Only the routing fields stay readable.

Why Fernet rather than raw AES-GCM: it is a complete, versioned token format (no nonce
to manage, no format of our own to get wrong), its keys are one printable string that
``notify channels generate-key`` prints, and :class:`cryptography.fernet.MultiFernet`
*is* our rotation scheme: encrypt with the first key, decrypt with any. AES-GCM's one
advantage here, binding the ciphertext to its row through associated data, is had by
putting the channel's key (``tenant/name``) inside the encrypted document and checking
it on the way out: a token copied onto another row is refused, not used.

Keys come from the environment only, never from a file notify reads or the store:
``NOTIFY_SECRET_KEY`` encrypts (and decrypts), ``NOTIFY_SECRET_KEYS_OLD`` (comma
separated) only decrypts, until ``notify channels rotate-key`` re-encrypts everything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._errors import NotifyError

if TYPE_CHECKING:
    from cryptography.fernet import Fernet, MultiFernet

SECRET_KEY_ENV = "NOTIFY_SECRET_KEY"
OLD_KEYS_ENV = "NOTIFY_SECRET_KEYS_OLD"
#: What to run to make a key; said in every "no key" error.
GENERATE = "make one with `notify channels generate-key`"
MISSING_PACKAGE = (
    "stored channels need the cryptography package: pip install 'notify-core[secrets]'"
)


class SecretKeyError(NotifyError):
    """The key to a stored channel's secrets is missing, malformed or wrong."""


def generate_key() -> str:
    """A new random key for ``NOTIFY_SECRET_KEY`` (32 bytes, url-safe base64)."""
    fernet = _fernet_module()
    key: bytes = fernet.Fernet.generate_key()
    return key.decode()


def _fernet_module() -> Any:
    try:
        from cryptography import fernet
    except ModuleNotFoundError:
        raise SecretKeyError(MISSING_PACKAGE) from None
    return fernet


class SecretBox:
    """Encrypts and decrypts the secret part of stored channels with the keys in ``env``.

    Made cheaply (nothing is imported or checked until a secret is needed), so a
    notifier without stored channels never needs a key, nor the ``cryptography`` package.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self._multi: MultiFernet | None = None
        self._first: Fernet | None = None

    def _keys(self) -> MultiFernet:
        if self._multi is not None:
            return self._multi
        fernet = _fernet_module()
        current = self.env.get(SECRET_KEY_ENV, "").strip()
        if not current:
            raise SecretKeyError(
                f"{SECRET_KEY_ENV} is not set: stored channels hold encrypted secrets, "
                f"and this process needs the key to use them ({GENERATE})"
            )
        keys = [fernet.Fernet(_key(fernet, current, SECRET_KEY_ENV))]
        old = [k.strip() for k in self.env.get(OLD_KEYS_ENV, "").split(",") if k.strip()]
        for i, text in enumerate(old):
            keys.append(fernet.Fernet(_key(fernet, text, f"{OLD_KEYS_ENV} (key {i + 1})")))
        self._first = keys[0]
        self._multi = fernet.MultiFernet(keys)
        return self._multi

    def check(self) -> None:
        """Raise :class:`SecretKeyError` now when no usable key is configured."""
        self._keys()

    def encrypt(self, scope: str, secrets: Mapping[str, Any]) -> str:
        """``secrets`` (JSON-like) as a token bound to the channel ``scope`` (``tenant/name``)."""
        document = json.dumps({"channel": scope, "secrets": dict(secrets)}, ensure_ascii=False)
        token: bytes = self._keys().encrypt(document.encode())
        return token.decode("ascii")

    def decrypt(self, scope: str, token: str) -> dict[str, Any]:
        """The secrets of channel ``scope``; :class:`SecretKeyError` naming the variables."""
        fernet = _fernet_module()
        keys = self._keys()
        try:
            document = json.loads(keys.decrypt(token.encode("ascii")))
        except (fernet.InvalidToken, UnicodeError, ValueError):
            raise SecretKeyError(
                f"cannot decrypt stored channel {scope!r} with {SECRET_KEY_ENV} or "
                f"{OLD_KEYS_ENV}: it was encrypted with another key (set the key it was "
                f"saved with in {OLD_KEYS_ENV}, or add the channel again)"
            ) from None
        if not isinstance(document, dict) or document.get("channel") != scope:
            raise SecretKeyError(
                f"stored channel {scope!r}: its encrypted secrets belong to another channel "
                "(the row was tampered with, or copied); add the channel again"
            )
        secrets = document.get("secrets")
        return dict(secrets) if isinstance(secrets, dict) else {}

    def current(self, token: str) -> bool:
        """Whether ``token`` is encrypted with ``NOTIFY_SECRET_KEY`` already (nothing to rotate)."""
        fernet = _fernet_module()
        self._keys()
        assert self._first is not None
        try:
            self._first.decrypt(token.encode("ascii"))
        except fernet.InvalidToken:
            return False
        return True


def _key(fernet: Any, text: str, variable: str) -> bytes:
    """The key as Fernet takes it; never echoed in the error, it is the secret of secrets."""
    try:
        fernet.Fernet(text.encode("ascii"))
    except (ValueError, UnicodeError):
        raise SecretKeyError(
            f"{variable} is not a valid key: expected 32 bytes in url-safe base64, "
            f"44 characters ({GENERATE})"
        ) from None
    return text.encode("ascii")
