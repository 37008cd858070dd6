"""The static checks, each a function from a parsed source to findings. They read tokens with
comments and strings already blanked out, so a commented-out ``selfdestruct`` or a string
saying ``tx.origin`` never triggers one, and ask each function's :class:`Scan` about a
token's statement and condition instead of rescanning."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator

from contract_analyzer.findings import Finding
from contract_analyzer.scan import CONDITIONS, Scan, is_member
from contract_analyzer.solidity import FUNCTION_KEYWORDS, Contract, Function, Source, Token

Detector = Callable[[Source], list[Finding]]

#: Low-level calls whose result is a success flag rather than a revert.
LOW_LEVEL = ("call", "send", "delegatecall", "staticcall")
_ASSIGNMENTS = ("=", "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "<<=", ">>=")
_GUARD_NAME = re.compile(r"only|owner|admin|auth|role|guard", re.IGNORECASE)
_REENTRANCY_GUARD = re.compile(r"nonReentrant|noReentrancy|lock|mutex", re.IGNORECASE)
_GUARD_CALLS = ("_checkOwner", "_checkRole", "_onlyOwner")
_NOT_NAMES = ("bool", "bytes", "memory")
#: The longest receiver expression read before a ``.delegatecall``.
_RECEIVER_TOKENS = 64


def functions(source: Source) -> Iterator[tuple[Contract, Function]]:
    for contract in source.contracts:
        if contract.kind == "interface":
            continue
        for function in contract.functions:
            yield contract, function


def low_level_calls(body: list[Token], names: tuple[str, ...] = LOW_LEVEL) -> Iterator[int]:
    """Indices of the names in ``x.call(...)``, ``x.call{value: v}(...)`` and
    ``x.call.value(v)(...)``."""
    for i in range(1, len(body) - 1):
        if (
            body[i].text in names
            and body[i - 1].text == "."
            and body[i + 1].text in ("(", "{", ".")
        ):
            if body[i + 1].text == "." and (
                i + 2 >= len(body) or body[i + 2].text not in ("value", "gas")
            ):
                continue
            yield i


def receiver(body: list[Token], dot: int) -> list[Token]:
    """The expression before ``body[dot]`` (a ``.``): ``msg.sender``, ``payable(to)``,
    ``targets[i]``; at most its last 64 tokens."""
    i = dot - 1
    limit = max(0, dot - _RECEIVER_TOKENS)
    while i >= limit:
        text = body[i].text
        if text in (")", "]"):
            depth = 0
            while i >= limit:
                if body[i].text in (")", "]"):
                    depth += 1
                elif body[i].text in ("(", "["):
                    depth -= 1
                    if depth == 0:
                        break
                i -= 1
            i -= 1
            continue
        if body[i].kind == "ident" or text == ".":
            i -= 1
            continue
        break
    return body[max(i + 1, limit) : dot]


def _is_state_write(scan: Scan, i: int, state: set[str]) -> bool:
    """Whether ``body[i]``, a state variable's name, is written here: assigned (through any
    index or member), incremented, deleted, pushed or popped."""
    body = scan.body
    if body[i].kind != "ident" or body[i].text not in state:
        return False
    if i > 0 and body[i - 1].text == ".":  # x.balances is someone else's
        return False
    if i > 0 and body[i - 1].text == "delete":
        return True
    j = i + 1
    while j < len(body):
        if body[j].text == "[":
            j = scan.close[j] + 1
        elif body[j].text == "." and j + 1 < len(body) and body[j + 1].kind == "ident":
            if body[j + 1].text in ("push", "pop") and j + 2 < len(body):
                return body[j + 2].text == "("
            j += 2
        else:
            break
    return j < len(body) and (body[j].text in _ASSIGNMENTS or body[j].text in ("++", "--"))


def _first_sender_check(function: Function) -> int:
    """The index of the first check on the caller in ``function`` (a condition comparing
    ``msg.sender``, or ``tx.origin``, whose own weakness the tx_origin check reports, or
    looking it up in a mapping; a call such as ``_checkOwner()``), or its length."""
    body, scan = function.body, function.scan
    for i, token in enumerate(body):
        if token.text in _GUARD_CALLS:
            return i
        if is_member(body, i, "msg", "sender") or is_member(body, i, "tx", "origin"):
            condition = scan.condition(i)
            if condition is not None and (
                scan.count("equality", condition) or scan.count("index", condition)
            ):
                return i
    return len(body)


def _guarding_modifiers(source: Source) -> set[str]:
    """The modifiers of the source that check the caller."""
    return {
        f.name
        for _, f in functions(source)
        if f.kind == "modifier" and _first_sender_check(f) < len(f.body)
    }


def _modifier_names(source: Source) -> set[str]:
    return {f.name for _, f in functions(source) if f.kind == "modifier"}


class _Guards:
    """Whether only some callers get through to a point of a function: a modifier that
    checks the caller (or is named like one, when inherited from elsewhere), or a check in
    the body before that point."""

    def __init__(self, source: Source) -> None:
        self.defined = _modifier_names(source)
        self.guarding = _guarding_modifiers(source)
        self._first: dict[int, int] = {}

    def guarded(self, function: Function, before: int) -> bool:
        for word in function.modifiers:
            if word in FUNCTION_KEYWORDS:
                continue
            if word in self.guarding:
                return True
            if word not in self.defined and _GUARD_NAME.search(word):
                return True
        key = id(function)
        if key not in self._first:
            self._first[key] = _first_sender_check(function)
        return self._first[key] < before


# -- the checks -----------------------------------------------------------------------------


def reentrancy(source: Source) -> list[Finding]:
    found = []
    state = {name for contract in source.contracts for name in contract.state_variables}
    for _, function in functions(source):
        if any(_REENTRANCY_GUARD.search(word) for word in function.modifiers):
            continue
        body, scan = function.body, function.scan
        calls = list(low_level_calls(body, ("call",)))
        if not calls:
            continue
        writes = [i for i in range(len(body)) if _is_state_write(scan, i, state)]
        for call in calls:
            _, end = scan.statement(call)
            later = bisect.bisect_right(writes, end)
            if later == len(writes):
                continue
            written = body[writes[later]]
            found.append(
                Finding(
                    "reentrancy",
                    "critical",
                    body[call].line,
                    f"{function.name}() makes an external call before it updates the "
                    f"state variable {written.text} (line {written.line}): the callee can "
                    f"call back into {function.name}() and act on the old state.",
                    "Update state before the external call (checks-effects-interactions), "
                    "or guard the function with a reentrancy lock such as OpenZeppelin's "
                    "nonReentrant.",
                )
            )
    return found


def unchecked_call(source: Source) -> list[Finding]:
    found = []
    for _, function in functions(source):
        body, scan = function.body, function.scan
        last_use = {token.text: i for i, token in enumerate(body) if token.kind == "ident"}
        next_name = _next_names(body)
        for call in low_level_calls(body):
            if _result_checked(scan, call, last_use, next_name):
                continue
            found.append(
                Finding(
                    "unchecked_call",
                    "high",
                    body[call].line,
                    f"The return value of the low-level .{body[call].text}() in "
                    f"{function.name}() is not checked: when the call fails, execution "
                    "continues as if it had succeeded.",
                    "Check the success flag: (bool ok, ) = target.call(...); require(ok, ...);"
                    " or use a function that reverts on failure.",
                )
            )
    return found


def _next_names(body: list[Token]) -> list[int]:
    """For each index, the first identifier at or after it that is not a type word."""
    found = [len(body)] * (len(body) + 1)
    for i in range(len(body) - 1, -1, -1):
        token = body[i]
        found[i] = i if token.kind == "ident" and token.text not in _NOT_NAMES else found[i + 1]
    return found


def _result_checked(scan: Scan, call: int, last_use: dict[str, int], next_name: list[int]) -> bool:
    """Whether the call's success flag is tested: the call sits in a condition or a return,
    or the flag it is assigned to is read after the statement."""
    body = scan.body
    start, end = scan.statement(call)
    if body[start].text in (*CONDITIONS, "return") or scan.condition(call) is not None:
        return True
    assignment = scan.last_assignment[call]
    if assignment < start:
        return False
    flag = next_name[start]
    return flag < assignment and last_use.get(body[flag].text, -1) > end


def tx_origin(source: Source) -> list[Finding]:
    found = []
    for _, function in functions(source):
        body, scan = function.body, function.scan
        for i in range(len(body) - 2):
            if not is_member(body, i, "tx", "origin"):
                continue
            span = scan.condition_or_statement(i)
            if not scan.count("equality", span):
                continue
            # tx.origin == msg.sender tells contracts from accounts: not authentication.
            if scan.count("msg.sender", span):
                continue
            found.append(
                Finding(
                    "tx_origin",
                    "high",
                    body[i].line,
                    f"{function.name}() authorizes with tx.origin: a contract the owner is "
                    "tricked into calling passes the check on the owner's behalf.",
                    "Compare msg.sender instead of tx.origin.",
                )
            )
    return found


def unprotected_selfdestruct(source: Source) -> list[Finding]:
    found = []
    guards = _Guards(source)
    for _, function in functions(source):
        if not function.callable_from_outside:
            continue
        body = function.body
        for i, token in enumerate(body[:-1]):
            if token.text in ("selfdestruct", "suicide") and body[i + 1].text == "(":
                if guards.guarded(function, before=i):
                    continue
                found.append(
                    Finding(
                        "unprotected_selfdestruct",
                        "critical",
                        token.line,
                        f"Anyone can call {function.name}(), which destroys the contract "
                        "and sends its balance away.",
                        "Restrict the function to the owner (onlyOwner or a require on "
                        "msg.sender), or remove selfdestruct.",
                    )
                )
    return found


def delegatecall_untrusted(source: Source) -> list[Finding]:
    found = []
    guards = _Guards(source)
    for _, function in functions(source):
        if not function.callable_from_outside or not function.parameters:
            continue
        body = function.body
        for call in low_level_calls(body, ("delegatecall",)):
            target = {t.text for t in receiver(body, call - 1) if t.kind == "ident"}
            if not target & set(function.parameters) or guards.guarded(function, call):
                continue
            found.append(
                Finding(
                    "delegatecall_untrusted",
                    "critical",
                    body[call].line,
                    f"{function.name}() delegatecalls an address its caller chooses: that "
                    "code runs with this contract's storage and balance.",
                    "Delegatecall only to a trusted, fixed implementation address, set by "
                    "an access-controlled function.",
                )
            )
    return found


def integer_overflow(source: Source) -> list[Finding]:
    lowest = lowest_version(source)
    if lowest is None or lowest >= (0, 8, 0):
        return []
    if any(t.text == "SafeMath" for t in source.tokens):
        return []
    found = []
    for _, function in functions(source):
        body = function.body
        lines: set[int] = set()
        for i, token in enumerate(body):
            if token.line in lines or not _is_arithmetic(body, i):
                continue
            lines.add(token.line)
            found.append(
                Finding(
                    "integer_overflow",
                    "high",
                    token.line,
                    f"Arithmetic ({token.text}) in {function.name}() compiled for Solidity "
                    f"{'.'.join(map(str, lowest))} wraps around silently on overflow or "
                    "underflow.",
                    "Compile with Solidity 0.8 or later (checked arithmetic), or use "
                    "SafeMath for every operation.",
                )
            )
    return found


def _is_arithmetic(body: list[Token], i: int) -> bool:
    text = body[i].text
    if text in ("+=", "-=", "*="):
        return True
    if text not in ("+", "-", "*") or i == 0 or i + 1 >= len(body):
        return False
    left, right = body[i - 1], body[i + 1]
    if not (left.kind in ("ident", "number") or left.text in (")", "]")):
        return False  # a unary minus
    return not (left.kind == "number" and right.kind == "number")


def timestamp_dependence(source: Source) -> list[Finding]:
    lowest = lowest_version(source)
    old = lowest is not None and lowest < (0, 7, 0)
    found = []
    for _, function in functions(source):
        body, scan = function.body, function.scan
        for i, token in enumerate(body):
            is_timestamp = is_member(body, i, "block", "timestamp") or (
                old and token.text == "now" and (i == 0 or body[i - 1].text != ".")
            )
            if not is_timestamp:
                continue
            span = scan.condition_or_statement(i)
            if scan.count("randomness", span):
                found.append(
                    Finding(
                        "timestamp_dependence",
                        "medium",
                        token.line,
                        f"{function.name}() derives a random-looking value from the block "
                        "timestamp, which the block's proposer chooses.",
                        "Use a verifiable randomness source (a VRF or commit-reveal), never "
                        "block.timestamp.",
                    )
                )
            elif scan.count("comparison", span) and (
                scan.condition(i) is not None or body[scan.start[i]].text in CONDITIONS
            ):
                found.append(
                    Finding(
                        "timestamp_dependence",
                        "low",
                        token.line,
                        f"{function.name}() decides on block.timestamp, which a proposer "
                        "can shift by several seconds.",
                        "Do not let outcomes depend on timestamps at a granularity under a "
                        "few minutes; use block numbers or wide margins.",
                    )
                )
    return found


def floating_pragma(source: Source) -> list[Finding]:
    found = []
    for expression, line in source.pragmas:
        if re.fullmatch(r"=?\d+\.\d+\.\d+", expression.replace(" ", "")):
            continue
        found.append(
            Finding(
                "floating_pragma",
                "low",
                line,
                f"pragma solidity {expression} lets the contract compile with compiler "
                "versions it was not tested with.",
                "Pin the exact compiler version the contract was tested with, e.g. "
                "pragma solidity 0.8.24;",
            )
        )
    return found


# -- versions ---------------------------------------------------------------------------


Version = tuple[int, int, int]
_COMPARATOR = re.compile(r"(\^|~|>=|<=|>|<|=)?\s*(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?")


def lowest_version(source: Source) -> Version | None:
    """The oldest compiler the pragmas allow, or None without a pragma."""
    bounds = [_lowest(expression) for expression, _ in source.pragmas]
    return max(bounds) if bounds else None  # every pragma must hold


def _lowest(expression: str) -> Version:
    lows = []
    for alternative in expression.split("||"):
        low: Version = (0, 0, 0)
        for match in _COMPARATOR.finditer(alternative):
            operator = match.group(1) or "="
            parts = [int(p) if p and p.isdigit() else 0 for p in match.group(2, 3, 4)]
            version: Version = (parts[0], parts[1], parts[2])
            if operator in ("=", "^", "~", ">="):
                low = max(low, version)
            elif operator == ">":
                low = max(low, (version[0], version[1], version[2] + 1))
        lows.append(low)
    return min(lows)


DETECTORS: tuple[Detector, ...] = (
    reentrancy,
    unchecked_call,
    tx_origin,
    unprotected_selfdestruct,
    delegatecall_untrusted,
    integer_overflow,
    timestamp_dependence,
    floating_pragma,
)
