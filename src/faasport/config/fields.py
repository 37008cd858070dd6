"""Typed reads from a TOML table that remember which keys were read, so that whatever is
left over is reported as an unknown key, and every error names the file and key path."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn, TypeVar

from faasport.core.errors import ConfigError

T = TypeVar("T")

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_MISSING: Any = object()


def describe(value: Any) -> str:
    """A value as the user wrote it in TOML, for "got ..." in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:56] + '..."'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__}"


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    name = key if _BARE_KEY.fullmatch(key) else json.dumps(key)
    return f"{path}.{name}" if path else name


class Source:
    """The file being read, as it is shown in messages."""

    def __init__(self, display: str) -> None:
        self.display = display

    def fail(self, key: str, message: str) -> NoReturn:
        line = f"{self.display}: {key}: {message}" if key else f"{self.display}: {message}"
        raise ConfigError(" ".join(line.split()))


class Table:
    def __init__(self, source: Source, path: str, data: Mapping[str, Any]) -> None:
        self.source = source
        self.path = path
        self.data = data
        self._known: list[str] = []

    # -- plumbing --------------------------------------------------------------------------

    def key(self, name: str | int) -> str:
        return join(self.path, name)

    def fail(self, name: str | int, message: str) -> NoReturn:
        if isinstance(name, str) and name not in self.data:
            # A key reported missing is most often there, spelled wrong: name the typo.
            self.misspelled(name)
        self.source.fail(self.key(name), message)

    @property
    def known(self) -> tuple[str, ...]:
        """The keys read so far."""
        return tuple(self._known)

    def has(self, name: str) -> bool:
        if name not in self._known:
            self._known.append(name)
        return name in self.data

    def raw(self, name: str) -> Any:
        return self.data[name] if self.has(name) else _MISSING

    def finish(self) -> None:
        """Fail on the first key that nothing read."""
        for name in self.data:
            if name not in self._known:
                close = difflib.get_close_matches(name, self._known, n=1)
                if close:
                    hint = f'did you mean "{close[0]}"?'
                else:
                    hint = "expected one of " + ", ".join(sorted(self._known))
                self.fail(name, f"unknown key; {hint}")

    def misspelled(self, *names: str) -> None:
        """Fail on a key nothing read that looks like one of ``names``: a required key spelled
        wrong is reported as an unknown key with a suggestion, not as a missing one."""
        for name in self.data:
            if name not in self._known and name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                if close:
                    self.fail(name, f'unknown key; did you mean "{close[0]}"?')

    # -- typed reads -----------------------------------------------------------------------

    def string(
        self,
        name: str,
        default: T,
        *,
        pattern: re.Pattern[str] | None = None,
        expected: str = "a string",
    ) -> str | T:
        value = self.raw(name)
        if value is _MISSING:
            return default
        if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
            self.fail(name, f"must be {expected}, got {describe(value)}")
        return value

    def integer(self, name: str, default: int, low: int, high: int | None = None) -> int:
        value = self.raw(name)
        if value is _MISSING:
            return default
        if high is None:
            expected = f"an integer of at least {low}"
        else:
            expected = f"an integer from {low} to {high}"
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < low
            or (high is not None and value > high)
        ):
            self.fail(name, f"must be {expected}, got {describe(value)}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.fail(name, f"must be true or false, got {describe(value)}")
        return value

    def number(self, name: str, default: float) -> float:
        value = self.raw(name)
        if value is _MISSING:
            return default
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            self.fail(name, f"must be a number greater than 0, got {describe(value)}")
        return float(value)

    def table(self, name: str) -> Table | None:
        value = self.raw(name)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.fail(name, f"must be a table, got {describe(value)}")
        return Table(self.source, self.key(name), value)

    def tables(self, name: str) -> Iterator[tuple[str, Table]]:
        """The sub-tables of table ``name`` (``[queues.jobs]``, ``[queues.mail]``...)."""
        outer = self.table(name)
        if outer is None:
            return
        for key, value in outer.data.items():
            outer.has(key)
            if not isinstance(value, dict):
                outer.fail(key, f"must be a table, got {describe(value)}")
            yield key, Table(self.source, outer.key(key), value)

    def array(self, name: str, item: Callable[[Any, str], T], expected: str) -> list[T] | None:
        """Each element of array ``name`` converted by ``item(value, key_path)``."""
        value = self.raw(name)
        if value is _MISSING:
            return None
        if not isinstance(value, list):
            self.fail(name, f"must be an array of {expected}, got {describe(value)}")
        return [item(element, join(self.key(name), i)) for i, element in enumerate(value)]

    def strings(self, name: str, expected: str = "strings") -> tuple[str, ...] | None:
        def one(value: Any, key: str) -> str:
            if not isinstance(value, str) or not value:
                self.source.fail(key, f"must be a non-empty string, got {describe(value)}")
            return value

        items = self.array(name, one, expected)
        return None if items is None else tuple(items)
