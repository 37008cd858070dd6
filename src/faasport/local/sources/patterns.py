"""EventBridge event patterns (and SNS filter policies, which share their grammar): does a
pattern match an event?

A pattern holds the fields to match; a field's value is an object (match inside) or a list of
matchers, any of which may match (an array in the event matches when any element does).
Matchers: literal strings, numbers, booleans and null; ``prefix``, ``suffix``,
``equals-ignore-case``, ``wildcard``, ``anything-but`` (a value, a list, or a prefix/suffix/
wildcard), ``numeric`` (``[">", 0, "<=", 5]``), ``exists`` and ``cidr``; ``$or`` lists
alternative patterns at any level.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

_MISSING: Any = object()
_OPERATORS = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class PatternError(ValueError):
    """A pattern that is not EventBridge's grammar; the message says where."""


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """Whether ``event`` (a JSON value) matches ``pattern``."""
    if not isinstance(pattern, dict):
        raise PatternError("a pattern must be a JSON object")
    if not isinstance(event, dict):
        return False
    for key, wanted in pattern.items():
        if key == "$or":
            if not isinstance(wanted, list) or not wanted:
                raise PatternError("$or takes a non-empty list of patterns")
            if not any(matches(alternative, event) for alternative in wanted):
                return False
            continue
        value = event.get(key, _MISSING)
        if isinstance(wanted, dict):
            if value is _MISSING or not matches(wanted, value):
                return False
        elif isinstance(wanted, list):
            if not _field(wanted, value, key):
                return False
        else:
            raise PatternError(f"{key!r}: a pattern field is an object or a list of matchers")
    return True


def _field(matchers: list[Any], value: Any, key: str) -> bool:
    values = value if isinstance(value, list) else [value]
    for matcher in matchers:
        if isinstance(matcher, dict) and "exists" in matcher:
            if _exists(matcher["exists"], value, key):
                return True
            continue
        if value is _MISSING:
            continue
        if any(_one(matcher, item, key) for item in values):
            return True
    return False


def _exists(wanted: Any, value: Any, key: str) -> bool:
    if not isinstance(wanted, bool):
        raise PatternError(f"{key!r}: exists takes true or false")
    present = value is not _MISSING and not isinstance(value, dict)
    return present == wanted


def _one(matcher: Any, value: Any, key: str) -> bool:
    if not isinstance(matcher, dict):
        if isinstance(matcher, bool) or isinstance(value, bool):
            return matcher is value
        if isinstance(matcher, int | float) and isinstance(value, int | float):
            return float(matcher) == float(value)
        return bool(matcher == value)
    if len(matcher) != 1:
        raise PatternError(f"{key!r}: a matcher object has one operator, got {sorted(matcher)}")
    [(operator, argument)] = matcher.items()
    if operator == "anything-but":
        return _anything_but(argument, value, key)
    if operator == "numeric":
        return _numeric(argument, value, key)
    if operator == "cidr":
        return _cidr(argument, value, key)
    return _string(operator, argument, value, key)


def _string(operator: str, argument: Any, value: Any, key: str) -> bool:
    if operator in ("prefix", "suffix") and isinstance(argument, dict):
        # {"prefix": {"equals-ignore-case": "x"}}
        [(inner, text)] = argument.items() if len(argument) == 1 else [("", None)]
        if inner != "equals-ignore-case" or not isinstance(text, str):
            raise PatternError(f"{key!r}: {operator} takes a string or equals-ignore-case")
        if not isinstance(value, str):
            return False
        folded, text = value.casefold(), text.casefold()
        return folded.startswith(text) if operator == "prefix" else folded.endswith(text)
    if not isinstance(argument, str):
        raise PatternError(f"{key!r}: {operator} takes a string")
    if not isinstance(value, str):
        return False
    if operator == "prefix":
        return value.startswith(argument)
    if operator == "suffix":
        return value.endswith(argument)
    if operator == "equals-ignore-case":
        return value.casefold() == argument.casefold()
    if operator == "wildcard":
        return _wildcard(argument).fullmatch(value) is not None
    raise PatternError(f"{key!r}: unknown matcher {operator!r}")


def _wildcard(text: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in text.split("*")), re.DOTALL)


def _anything_but(argument: Any, value: Any, key: str) -> bool:
    if isinstance(argument, dict):
        return not _one(argument, value, key)
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_one(item, value, key) for item in excluded)


def _numeric(argument: Any, value: Any, key: str) -> bool:
    if not isinstance(argument, list) or len(argument) not in (2, 4):
        raise PatternError(f"{key!r}: numeric takes [op, n] or [op, n, op, n]")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    for operator, bound in zip(argument[::2], argument[1::2], strict=True):
        compare = _OPERATORS.get(operator)
        if compare is None or isinstance(bound, bool) or not isinstance(bound, int | float):
            raise PatternError(f'{key!r}: numeric takes comparisons like ">", 0')
        if not compare(value, bound):
            return False
    return True


def _cidr(argument: Any, value: Any, key: str) -> bool:
    try:
        network = ipaddress.ip_network(argument, strict=False)
    except (TypeError, ValueError):
        raise PatternError(f"{key!r}: cidr takes a network like 10.0.0.0/24") from None
    try:
        return ipaddress.ip_address(value) in network
    except (TypeError, ValueError):
        return False


def check(pattern: Any, path: str = "") -> None:
    """Raise :class:`PatternError` naming the first thing in ``pattern`` that is not
    EventBridge's grammar, without needing an event."""
    if not isinstance(pattern, dict) or not pattern:
        raise PatternError(f"{path or 'the pattern'}: must be a non-empty object")
    for key, wanted in pattern.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            if not isinstance(wanted, list) or not wanted:
                raise PatternError(f"{where}: $or takes a non-empty list of patterns")
            for alternative in wanted:
                check(alternative, where)
        elif isinstance(wanted, dict):
            check(wanted, where)
        elif isinstance(wanted, list):
            for matcher in wanted:
                _check_matcher(matcher, where)
        else:
            raise PatternError(f"{where}: a pattern field is an object or a list of matchers")


_PROBES: tuple[Any, ...] = ("", "10.0.0.1", 0, None)


def _check_matcher(matcher: Any, where: str) -> None:
    if not isinstance(matcher, dict):
        return
    if "exists" in matcher:
        _exists(matcher["exists"], None, where)
        return
    # Every operator validates its argument when it runs: run it against a value of each kind.
    for probe in _PROBES:
        _one(matcher, probe, where)
