"""Reading configuration values: scalars and tables, each error naming the file and key.

The shapes are the TOML file's (strings, numbers, durations, severities, lists, tables);
:class:`Values` turns them into Python values or a :class:`ConfigError` that says where,
and resolves ``${VARIABLE}`` references. The structure on top (which tables, which keys)
is :class:`notify_core._config._Reader`'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._duration import parse_duration
from ._errors import ConfigError
from ._models import Severity

_ENV_REF = re.compile(r"\$\$|\$\{([^}]*)\}")


class Values:
    def __init__(
        self,
        source: str,
        env: Mapping[str, str],
        providers: Any,
        problems: list[ConfigError] | None = None,
        *,
        interpolate: bool = True,
    ) -> None:
        self.source = source
        self.env = env
        self.providers = providers
        self.problems = problems
        #: ``False`` for channels users store: their ``${VAR}`` is text, never this
        #: process's environment (a tenant must not read ``${NOTIFY_SECRET_KEY}``)
        self.interpolating = interpolate

    def collecting(self, make: Any, *args: Any) -> Any:
        """Build one item; when collecting, a broken item is recorded and skipped."""
        try:
            return make(*args)
        except ConfigError as exc:
            if self.problems is None:
                raise
            self.problems.append(exc)
            return None

    def error(self, path: str, message: str) -> ConfigError:
        return ConfigError(message, source=self.source, path=path)

    # -- scalars -------------------------------------------------------------------

    def interpolate(self, value: str, path: str) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name = match.group(1)
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise self.error(path, f"invalid environment reference ${{{name}}}")
            if name not in self.env:
                raise self.error(path, f"environment variable {name} is not set")
            return self.env[name]

        if not self.interpolating:
            return value
        return _ENV_REF.sub(replace, value) if "$" in value else value

    def deep(self, value: Any, path: str) -> Any:
        if isinstance(value, str):
            return self.interpolate(value, path)
        if isinstance(value, Mapping):
            return {k: self.deep(v, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.deep(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    def table(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(path, f"expected a table, got {_show(value)}")
        return value

    def string(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.error(path, f"expected a string, got {_show(value)}")
        return self.interpolate(value, path)

    def number(
        self, value: Any, path: str, *, minimum: float | None = None, above: float | None = None
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(path, f"expected a number, got {_show(value)}")
        if minimum is not None and value < minimum:
            raise self.error(path, f"must be at least {minimum:g}, got {value!r}")
        if above is not None and not value > above:
            raise self.error(path, f"must be greater than {above:g}, got {value!r}")
        return float(value)

    def integer(self, value: Any, path: str, *, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(path, f"expected a whole number, got {_show(value)}")
        if value < minimum:
            raise self.error(path, f"must be at least {minimum}, got {value!r}")
        return value

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(path, f"expected true or false, got {_show(value)}")
        return value

    def strings(self, value: Any, path: str) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.error(path, f"expected a list of strings, got {_show(value)}")
        return tuple(self.string(v, f"{path}[{i}]") for i, v in enumerate(value))

    def duration(self, value: Any, path: str) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise self.error(path, str(exc)) from None

    def severity(self, value: Any, path: str) -> Severity:
        try:
            return Severity.parse(self.string(value, path))
        except ValueError as exc:
            raise self.error(path, str(exc)) from None

    def unknown(
        self, table: Mapping[str, Any], allowed: frozenset[str] | set[str], path: str
    ) -> None:
        for key in table:
            if key not in allowed:
                import difflib

                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                known = ", ".join(sorted(allowed))
                raise self.error(
                    f"{path}.{key}" if path else key, f"unknown key{hint}; known keys: {known}"
                )


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)
