"""DynamoDB's condition, key-condition, projection and update expressions, evaluated on
items held as Python values (attribute values decoded by
:mod:`faasport.aws.attribute_values`: numbers are ``Decimal``, sets are ``set``).

The grammar is DynamoDB's documented one: comparisons (``= <> < <= > >=``), ``BETWEEN``,
``IN``, ``AND`` / ``OR`` / ``NOT`` and parentheses; the functions ``attribute_exists``,
``attribute_not_exists``, ``attribute_type``, ``begins_with``, ``contains`` and ``size``;
``#name`` and ``:value`` placeholders; document paths with ``.`` and ``[n]``. Update
expressions take ``SET`` (with ``+``, ``-``, ``if_not_exists`` and ``list_append``),
``REMOVE``, ``ADD`` and ``DELETE``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+)|(?P<op><>|<=|>=|[=<>(),\[\].+-])|(?P<name>[#:]?[A-Za-z0-9_]+))"
)
_KEYWORDS = {"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"}
_MISSING = object()


class ExpressionError(ValueError):
    """A malformed or unsupported expression (DynamoDB answers ValidationException)."""


Path = tuple[str | int, ...]


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"invalid syntax near {text[position : position + 20]!r}")
        out.append(match.group(match.lastgroup or "name"))
        position = match.end()
    return out


class _Parser:
    def __init__(self, text: str, names: dict[str, str], values: dict[str, Any]) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.names = names
        self.values = values
        self.used_values: set[str] = set()

    def peek(self, ahead: int = 0) -> str | None:
        at = self.at + ahead
        return self.tokens[at] if at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token.upper() != expected):
            raise ExpressionError(f"expected {expected or 'more'}, found {token or 'the end'}")
        self.at += 1
        return token

    def done(self) -> None:
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()!r}")

    # -- operands --------------------------------------------------------------------

    def path(self) -> Path:
        parts: list[str | int] = [self._name(self.take())]
        while self.peek() in (".", "["):
            if self.take() == ".":
                parts.append(self._name(self.take()))
            else:
                index = self.take()
                if not index.isdigit():
                    raise ExpressionError(f"a list index is a number, not {index!r}")
                parts.append(int(index))
                self.take("]")
        return tuple(parts)

    def _name(self, token: str) -> str:
        if token.startswith("#"):
            if token not in self.names:
                raise ExpressionError(f"{token} is not in ExpressionAttributeNames")
            return self.names[token]
        if token.startswith(":") or token.upper() in _KEYWORDS or token.isdigit():
            raise ExpressionError(f"expected an attribute name, found {token!r}")
        return token

    def operand(self) -> Any:
        """A value placeholder, ``size(path)``, or a path (returned as ``("path", p)``)."""
        token = self.peek()
        if token is None:
            raise ExpressionError("expected an operand, found the end")
        if token.startswith(":"):
            self.at += 1
            if token not in self.values:
                raise ExpressionError(f"{token} is not in ExpressionAttributeValues")
            self.used_values.add(token)
            return ("value", self.values[token])
        if token.lower() == "size" and self.peek(1) == "(":
            self.at += 2
            path = self.path()
            self.take(")")
            return ("size", path)
        return ("path", self.path())

    # -- conditions ------------------------------------------------------------------

    def condition(self) -> Any:
        left = self._and()
        while (self.peek() or "").upper() == "OR":
            self.at += 1
            left = ("or", left, self._and())
        return left

    def _and(self) -> Any:
        left = self._not()
        while (self.peek() or "").upper() == "AND":
            self.at += 1
            left = ("and", left, self._not())
        return left

    def _not(self) -> Any:
        if (self.peek() or "").upper() == "NOT":
            self.at += 1
            return ("not", self._not())
        return self._primary()

    def _primary(self) -> Any:
        token = self.peek()
        if token == "(":
            self.at += 1
            inner = self.condition()
            self.take(")")
            return inner
        lowered = (token or "").lower()
        if self.peek(1) == "(" and lowered in _FUNCTIONS:
            self.at += 2
            path = self.path()
            argument = None
            if lowered in ("begins_with", "contains", "attribute_type"):
                self.take(",")
                argument = self.operand()
            self.take(")")
            return ("call", lowered, path, argument)
        left = self.operand()
        op = (self.peek() or "").upper()
        if op in ("=", "<>", "<", "<=", ">", ">="):
            self.at += 1
            return ("cmp", op, left, self.operand())
        if op == "BETWEEN":
            self.at += 1
            low = self.operand()
            self.take("AND")
            return ("between", left, low, self.operand())
        if op == "IN":
            self.at += 1
            self.take("(")
            options = [self.operand()]
            while self.peek() == ",":
                self.at += 1
                options.append(self.operand())
            self.take(")")
            return ("in", left, options)
        raise ExpressionError(f"expected a comparison after the operand, found {op or 'the end'}")


_FUNCTIONS = (
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
)


def get_path(item: Any, path: Path) -> Any:
    """The value at ``path`` in ``item``, or ``_MISSING``."""
    value = item
    for part in path:
        if isinstance(part, int):
            if not isinstance(value, list) or part >= len(value):
                return _MISSING
            value = value[part]
        else:
            if not isinstance(value, dict) or part not in value:
                return _MISSING
            value = value[part]
    return value


def _value(item: dict[str, Any], operand: Any) -> Any:
    kind, data = operand
    if kind == "value":
        return data
    if kind == "size":
        found = get_path(item, data)
        if found is _MISSING or found is None or isinstance(found, bool | Decimal):
            return _MISSING
        return Decimal(len(found))
    return get_path(item, data)


def _type_name(value: Any) -> str:
    from faasport.aws.attribute_values import serialize

    return next(iter(serialize(value)))


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is _MISSING or right is _MISSING:
        return op == "<>" and not (left is _MISSING and right is _MISSING)
    if op == "=":
        return bool(left == right and _type_name(left) == _type_name(right))
    if op == "<>":
        return not _compare("=", left, right)
    if not (isinstance(left, Decimal | str | bytes) and type(left) is type(right)):
        return False
    order: Any = left  # same type as right, checked above
    if op == "<":
        return bool(order < right)
    if op == "<=":
        return bool(order <= right)
    if op == ">":
        return bool(order > right)
    return bool(order >= right)


def _holds(item: dict[str, Any], tree: Any) -> bool:
    kind = tree[0]
    if kind == "or":
        return _holds(item, tree[1]) or _holds(item, tree[2])
    if kind == "and":
        return _holds(item, tree[1]) and _holds(item, tree[2])
    if kind == "not":
        return not _holds(item, tree[1])
    if kind == "cmp":
        return _compare(tree[1], _value(item, tree[2]), _value(item, tree[3]))
    if kind == "between":
        value = _value(item, tree[1])
        return _compare(">=", value, _value(item, tree[2])) and _compare(
            "<=", value, _value(item, tree[3])
        )
    if kind == "in":
        value = _value(item, tree[1])
        return any(_compare("=", value, _value(item, option)) for option in tree[2])
    _, name, path, argument = tree
    found = get_path(item, path)
    if name == "attribute_exists":
        return found is not _MISSING
    if name == "attribute_not_exists":
        return found is _MISSING
    if found is _MISSING:
        return False
    wanted = _value(item, argument)
    if name == "attribute_type":
        return bool(_type_name(found) == wanted)
    if name == "begins_with":
        if isinstance(found, str) and isinstance(wanted, str):
            return found.startswith(wanted)
        return isinstance(found, bytes) and isinstance(wanted, bytes) and found.startswith(wanted)
    # contains: a substring, a set member or a list element
    if isinstance(found, str) and isinstance(wanted, str):
        return wanted in found
    if isinstance(found, set | list):
        return bool(wanted in found)
    return False


def check_all_used(values: dict[str, Any], used: set[str]) -> None:
    """DynamoDB refuses a request whose ExpressionAttributeValues holds a value that none of
    its expressions uses."""
    unused = sorted(set(values) - used)
    if unused:
        raise ExpressionError(
            f"Value provided in ExpressionAttributeValues unused in expressions: "
            f"keys: {{{', '.join(unused)}}}"
        )


class Condition:
    """A parsed condition (or filter) expression."""

    def __init__(self, text: str, names: dict[str, str], values: dict[str, Any]) -> None:
        parser = _Parser(text, names, values)
        self.tree = parser.condition()
        parser.done()
        self.used_values = parser.used_values

    def holds(self, item: dict[str, Any] | None) -> bool:
        return _holds(item or {}, self.tree)


def key_condition(
    text: str, names: dict[str, str], values: dict[str, Any], key: str, sort_key: str | None
) -> tuple[Any, Condition | None, set[str]]:
    """A Query's KeyConditionExpression: the partition key's value, the condition on the
    sort key (or None) and the value placeholders used. Only ``key = :v``, optionally
    ``AND`` one sort-key condition."""
    condition = Condition(text, names, values)
    parts = [condition.tree]
    if condition.tree[0] == "and":
        parts = [condition.tree[1], condition.tree[2]]
    partition = None
    sort: Any = None
    for part in parts:
        if part[0] == "cmp" and part[1] == "=" and part[2] == ("path", (key,)):
            partition = part[3][1]
            continue
        target = {"cmp": part[2], "between": part[1]}.get(part[0], ("path", part[2]))
        if sort_key is not None and target == ("path", (sort_key,)) and sort is None:
            if (part[0] == "cmp" and part[1] == "<>") or (
                part[0] == "call" and part[1] != "begins_with"
            ):
                break
            sort = part
            continue
        raise ExpressionError(
            f"KeyConditionExpression must be {key} = :value, and at most one condition on "
            f"the sort key{f' {sort_key}' if sort_key else ''}"
        )
    if partition is None:
        raise ExpressionError(f"KeyConditionExpression must name the partition key {key} with =")
    if sort is None:
        return partition, None, condition.used_values
    condition.tree = sort
    return partition, condition, condition.used_values


def projection(text: str, names: dict[str, str]) -> list[Path]:
    parser = _Parser(text, names, {})
    paths = [parser.path()]
    while parser.peek() == ",":
        parser.at += 1
        paths.append(parser.path())
    parser.done()
    return paths


def project(item: dict[str, Any], paths: list[Path]) -> dict[str, Any]:
    """The item cut down to the top-level attributes the paths start with (nested paths
    keep their whole top-level attribute: enough for what local code reads)."""
    return {str(p[0]): item[str(p[0])] for p in paths if str(p[0]) in item}


class Update:
    """A parsed update expression, applied to a copy of the item."""

    def __init__(self, text: str, names: dict[str, str], values: dict[str, Any]) -> None:
        parser = _Parser(text, names, values)
        self.actions: list[tuple[str, Path, Any]] = []
        seen: set[str] = set()
        while parser.peek() is not None:
            clause = parser.take().upper()
            if clause not in ("SET", "REMOVE", "ADD", "DELETE") or clause in seen:
                raise ExpressionError(f"unexpected {clause!r} in the update expression")
            seen.add(clause)
            while True:
                path = parser.path()
                if clause == "SET":
                    parser.take("=")
                    self.actions.append((clause, path, self._set_value(parser)))
                elif clause == "REMOVE":
                    self.actions.append((clause, path, None))
                else:
                    self.actions.append((clause, path, parser.operand()))
                if parser.peek() != ",":
                    break
                parser.at += 1
        if not self.actions:
            raise ExpressionError("the update expression is empty")
        self.used_values = parser.used_values

    def _set_value(self, parser: _Parser) -> Any:
        left = self._set_operand(parser)
        if parser.peek() in ("+", "-"):
            op = parser.take()
            return (op, left, self._set_operand(parser))
        return left

    def _set_operand(self, parser: _Parser) -> Any:
        token = (parser.peek() or "").lower()
        if token in ("if_not_exists", "list_append") and parser.peek(1) == "(":
            parser.at += 2
            # if_not_exists(path, value); list_append's lists may be any operand
            first = parser.operand() if token == "if_not_exists" else self._set_operand(parser)
            parser.take(",")
            second = self._set_operand(parser)
            parser.take(")")
            return (token, first, second)
        return parser.operand()

    def apply(self, item: dict[str, Any]) -> dict[str, Any]:
        import copy

        new = copy.deepcopy(item)
        for clause, path, operand in self.actions:
            current = get_path(item, path)
            if clause == "SET":
                _put(new, path, self._evaluate(item, operand))
            elif clause == "REMOVE":
                _remove(new, path)
            else:
                value = _value(item, operand)
                if clause == "ADD":
                    if current is _MISSING:
                        result = value
                    elif isinstance(current, Decimal) and isinstance(value, Decimal):
                        result = current + value
                    elif isinstance(current, set) and isinstance(value, set):
                        result = current | value
                    else:
                        raise ExpressionError("ADD takes a number or a set of the same type")
                    _put(new, path, result)
                elif current is not _MISSING:
                    if not (isinstance(current, set) and isinstance(value, set)):
                        raise ExpressionError("DELETE takes a set")
                    rest = current - value
                    if rest:
                        _put(new, path, rest)
                    else:
                        _remove(new, path)
        return new

    def _evaluate(self, item: dict[str, Any], operand: Any) -> Any:
        kind = operand[0]
        if kind in ("+", "-"):
            left = self._evaluate(item, operand[1])
            right = self._evaluate(item, operand[2])
            if not (isinstance(left, Decimal) and isinstance(right, Decimal)):
                raise ExpressionError(f"{kind} takes two numbers")
            return left + right if kind == "+" else left - right
        if kind == "if_not_exists":
            found = _value(item, operand[1])
            return self._evaluate(item, operand[2]) if found is _MISSING else found
        if kind == "list_append":
            first = self._evaluate(item, operand[1])
            second = self._evaluate(item, operand[2])
            if not (isinstance(first, list) and isinstance(second, list)):
                raise ExpressionError("list_append takes two lists")
            return first + second
        value = _value(item, operand)
        if value is _MISSING:
            raise ExpressionError(
                "The provided expression refers to an attribute that does not exist in the item"
            )
        return value


def _put(item: dict[str, Any], path: Path, value: Any) -> None:
    target: Any = item
    for part in path[:-1]:
        target = target[part] if isinstance(part, int) else target.setdefault(part, {})
    last = path[-1]
    if isinstance(last, int) and isinstance(target, list):
        if last < len(target):
            target[last] = value
        else:
            target.append(value)
    else:
        target[last] = value


def _remove(item: dict[str, Any], path: Path) -> None:
    target = get_path(item, path[:-1]) if len(path) > 1 else item
    last = path[-1]
    if isinstance(target, dict) and not isinstance(last, int):
        target.pop(last, None)
    elif isinstance(target, list) and isinstance(last, int) and last < len(target):
        del target[last]
