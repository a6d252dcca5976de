"""Secret masking: the one place that decides what a secret looks like on screen.

Masking is by value: every string known to be secret for a channel (a token path
segment, a ``sig`` query value, a routing key, an auth header) is replaced wherever it
appears, so a secret echoed back in a provider's error text is caught as surely as
the URL we built. What is secret is said by the plugin (:class:`Target.secrets`), by
the provider's declared secret keys, and by a conservative URL heuristic.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit

_SECRET_KEY = re.compile(
    r"(secret|token|password|passwd|(?<!dedup_)key|authorization|signature|sig)$",
    re.IGNORECASE,
)
#: How a key :func:`is_secret_key` takes for a secret's ends in JSON text, lower-cased:
#: its ending, then ``":``. In a JSON document a ``"`` followed by ``:`` only ever
#: closes a key (a quote inside a string is escaped, and a value is never followed by
#: ``:``), and no letter of these endings is ever escaped, so every such key is found.
_SECRET_ENDINGS = tuple(
    f'{w}":' for w in ("secret", "token", "password", "passwd", "authorization", "signature", "sig")
)
#: The shortest string taken for a secret. Shorter values are never masked (and never
#: checked for leaks by the contract kit): masking every ``on`` or ``eu`` a channel
#: holds would scramble ordinary text, and a credential that short protects nothing.
MIN_SECRET = 4


def mask_value(secret: str) -> str:
    """The shown form of one secret: never the whole of it, a short tail when long."""
    if len(secret) >= 20:
        return MASK + secret[-4:]
    return MASK


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether a settings or header name conventionally holds a secret."""
    return bool(_SECRET_KEY.search(key.replace("-", "_")))


def url_secrets(url: str) -> tuple[str, ...]:
    """Parts of a URL that are probably credentials, for URLs no plugin described better.

    A password is always secret; a query value is when its name says so (``sig``,
    ``token``, ``key``…) or it looks random; a path segment is when it is long and looks
    random (mixes letters and digits), which is how webhook tokens look.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return (url,) if len(url) >= MIN_SECRET else ()
    found: list[str] = []
    if parts.password:
        found.append(parts.password)
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        random_looking = (
            len(value) >= 16 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
        )
        if (is_secret_key(name) and len(value) >= MIN_SECRET) or random_looking:
            found.append(value)
    for segment in parts.path.split("/"):
        has_digit = any(c.isdigit() for c in segment)
        has_alpha = any(c.isalpha() for c in segment)
        if (len(segment) >= 16 and has_digit and has_alpha) or len(segment) >= 32:
            found.append(segment)
    return tuple(found)


#: What stands in for a secret, or for the part of one that is not shown.
MASK = "****"


def masked_url(url: str, keep: str | re.Pattern[str] = r"\Z.") -> str:
    """A URL as an error may show it when the URL is not understood (so not trusted).

    Keeps the scheme, host and port, and the path segments that fully match ``keep``
    (a provider's known words and ids); masks every other segment, the query, the
    fragment and any credentials. Control characters are dropped so the error stays
    one line. Use it in ``InvalidTarget`` messages about a URL of the wrong shape.
    """
    pattern = re.compile(keep) if isinstance(keep, str) else keep
    printable = "".join(c for c in url if c.isprintable()).strip()
    try:
        parts = urlsplit(printable)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    host += f":{port}" if port is not None else ""
    segments = [s if not s or pattern.fullmatch(s) else MASK for s in parts.path.split("/")]
    shown = f"{parts.scheme}://{host}{'/'.join(segments)}"
    if parts.query:
        shown += "?" + MASK
    if parts.fragment:
        shown += "#" + MASK
    return shown


#: What stands in for a connection URL's password (``postgresql://user:***@host/db``).
PASSWORD_MASK = "***"


def _split_location(url: str) -> tuple[str, str | None, str, str, str] | None:
    """``scheme://``, user info (None without ``@``), host and path, query, fragment of
    ``url`` as written (nothing decoded or normalised); None without ``scheme://``.

    The user info ends at the last ``@`` before the path, or anywhere when its password
    holds a ``/``, ``?`` or ``#`` unencoded: erring towards masking more, never less.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        return None
    ends = [i for i in (rest.find(c) for c in "/?#") if i != -1]
    end = min(ends, default=len(rest))
    at = rest.rfind("@", 0, end)
    if at == -1 and ":" in rest[:end] and "@" in rest[end:]:
        at = rest.rfind("@")
    userinfo = rest[:at] if at != -1 else None
    rest = rest[at + 1 :]
    rest, _, fragment = rest.partition("#")
    where, _, query = rest.partition("?")
    return scheme + sep, userinfo, where, query, fragment


def _secret_params(query: str) -> list[tuple[str, str]]:
    """``(name, value)`` of the query parameters named like secrets (``password=…``)."""
    found = []
    for piece in query.split("&"):
        name, eq, value = piece.partition("=")
        if eq and value and is_secret_key(unquote_plus(name)):
            found.append((name, value))
    return found


def connection_secrets(url: str) -> tuple[str, ...]:
    """The secrets of a connection URL (a database's, Redis's), for masking error texts:
    its password (as written and decoded), and query values named like secrets
    (``?password=…``, ``sslpassword``)."""
    parts = _split_location(url)
    if parts is None:
        return url_secrets(url)
    _, userinfo, _, query, _ = parts
    found: list[str] = []
    if userinfo is not None and ":" in userinfo:
        password = userinfo.partition(":")[2]
        found += [password, unquote(password)]
    for _, value in _secret_params(query):
        found += [value, unquote_plus(value)]
    return tuple(s for s in dict.fromkeys(found) if s)


def masked_location(url: str) -> str:
    """A connection URL (a database's, Redis's) as people may see it, masked by position.

    The password's place holds ``***``, and so does the value of every query parameter
    named like a secret; the rest is shown exactly as written. By position, not by value:
    masking the password's text wherever it occurs would also mangle a database or host
    name that happens to contain it (``/****gres``). Text that is not a ``scheme://`` URL
    is masked by value, as :func:`url_secrets` finds secrets in it.
    """
    parts = _split_location(url)
    if parts is None:
        return Masker(url_secrets(url)).text(url)
    start, userinfo, where, query, fragment = parts
    shown = start
    if userinfo is not None:
        user, colon, _ = userinfo.partition(":")
        shown += f"{user}:{PASSWORD_MASK}@" if colon else f"{user}@"
    shown += where
    if query:
        secret = {name for name, _ in _secret_params(query)}
        shown += "?" + "&".join(
            f"{piece.partition('=')[0]}={PASSWORD_MASK}"
            if piece.partition("=")[0] in secret and piece.partition("=")[2]
            else piece
            for piece in query.split("&")
        )
    if fragment:
        shown += "#" + MASK  # never needed to tell one database from another
    return shown


def _replacer(match: re.Match[str]) -> str:
    return mask_value(match.group(0))


class Masker:
    """Replaces known secrets in text and in JSON-like data.

    Values shorter than :data:`MIN_SECRET` are ignored, whoever declared them.
    """

    __slots__ = ("_pattern", "_plain", "_secrets")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        unique = {s for s in secrets if len(s) >= MIN_SECRET}
        self._secrets = tuple(sorted(unique, key=len, reverse=True))
        self._pattern = (
            re.compile("|".join(re.escape(s) for s in self._secrets)) if self._secrets else None
        )
        #: every secret is written in JSON text as it is (no quote, backslash or control
        #: character to escape), so a search of the text finds it wherever a value holds it
        self._plain = all(json.dumps(s, ensure_ascii=False)[1:-1] == s for s in self._secrets)

    @property
    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    def __add__(self, other: Masker) -> Masker:
        return Masker(self._secrets + other._secrets)

    def text(self, value: str) -> str:
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(_replacer, value)

    def untouched(self, document: str) -> bool:
        """Whether :meth:`data` leaves the JSON ``document``'s value as it is.

        True when no secret occurs anywhere in the text and no key looks like a secret's
        (whose value :meth:`data` masks whole): a few searches of the text, ~2 µs. Then
        the serialised payload can be stored as it is, instead of walked value by value
        and serialised again (~15 µs a delivery). When in doubt, False and the caller
        walks: a secret JSON would escape, a value that merely looks like such a key,
        or any non-ASCII text (letters such as ``ſ`` or ``K`` match ASCII ones when
        :func:`is_secret_key` ignores case).
        """
        pattern = self._pattern
        if pattern is not None and (not self._plain or pattern.search(document)):
            return False
        if not document.isascii():
            return False
        low = document.lower()
        if any(ending in low for ending in _SECRET_ENDINGS):
            return False
        keys = low.count('key":')  # every "…key" but dedup_key / dedup-key
        return keys == 0 or keys == low.count('dedup_key":') + low.count('dedup-key":')

    def data(self, value: Any, *, key: str = "") -> Any:
        """Mask strings anywhere in nested data; values under secret-looking keys entirely.

        Written as one closure over locals: it runs on every stored payload, and the
        straightforward recursive method cost ~50 µs a delivery.
        """
        pattern = self._pattern
        replace = _replacer

        def walk(item: Any, name: str) -> Any:
            if type(item) is str:
                if name and item and is_secret_key(name):
                    return mask_value(item)
                return pattern.sub(replace, item) if pattern is not None and item else item
            if isinstance(item, Mapping):
                return {k: walk(v, k if type(k) is str else str(k)) for k, v in item.items()}
            if isinstance(item, list | tuple):
                return [walk(v, "") for v in item]
            if isinstance(item, str):  # a str subclass (an enum value)
                return walk(str(item), name)
            return item

        return walk(value, key)

    def __repr__(self) -> str:
        return f"<Masker of {len(self._secrets)} secrets>"
