"""The static checks, each a function from a parsed source to findings. They read tokens with
comments and strings already blanked out, so a commented-out ``selfdestruct`` or a string
saying ``tx.origin`` never triggers one."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator

from contract_analyzer.findings import Finding
from contract_analyzer.solidity import (
    FUNCTION_KEYWORDS,
    Contract,
    Function,
    Source,
    Token,
    matching,
    statement_bounds,
)

Detector = Callable[[Source], list[Finding]]

#: Low-level calls whose result is a success flag rather than a revert.
LOW_LEVEL = ("call", "send", "delegatecall", "staticcall")
_CONDITIONS = ("require", "assert", "if", "while")
_ASSIGNMENTS = ("=", "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "<<=", ">>=")
_COMPARISONS = ("<", ">", "<=", ">=", "==", "!=")
_CALLERS = (("msg", "sender"), ("tx", "origin"))
_GUARD_NAME = re.compile(r"only|owner|admin|auth|role|guard", re.IGNORECASE)
_REENTRANCY_GUARD = re.compile(r"nonReentrant|noReentrancy|lock|mutex", re.IGNORECASE)


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
    ``targets[i]``."""
    i = dot - 1
    while i >= 0:
        text = body[i].text
        if text in (")", "]"):
            depth = 0
            while i >= 0:
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
    return body[i + 1 : dot]


def condition_of(body: list[Token], index: int) -> list[Token] | None:
    """The parenthesized condition of the ``require``/``assert``/``if``/``while`` that holds
    ``body[index]``, if any."""
    depth = 0
    i = index
    while i > 0:
        i -= 1
        text = body[i].text
        if text in (")", "]"):
            depth += 1
        elif text in ("(", "["):
            if depth:
                depth -= 1
            elif text == "(" and i > 0 and body[i - 1].text in _CONDITIONS:
                return body[i : matching(body, i) + 1]
        elif text in (";", "{", "}") and depth == 0:
            return None
    return None


def _is_state_write(body: list[Token], i: int, state: set[str]) -> bool:
    """Whether ``body[i]``, a state variable's name, is written here: assigned (through any
    index or member), incremented, deleted, pushed or popped."""
    if body[i].kind != "ident" or body[i].text not in state:
        return False
    if i > 0 and body[i - 1].text == ".":  # x.balances is someone else's
        return False
    if i > 0 and body[i - 1].text == "delete":
        return True
    j = i + 1
    while j < len(body):
        if body[j].text == "[":
            j = matching(body, j) + 1
        elif body[j].text == "." and j + 1 < len(body) and body[j + 1].kind == "ident":
            if body[j + 1].text in ("push", "pop") and j + 2 < len(body):
                return body[j + 2].text == "("
            j += 2
        else:
            break
    return j < len(body) and (body[j].text in _ASSIGNMENTS or body[j].text in ("++", "--"))


def _modifiers(source: Source) -> dict[str, Function]:
    return {f.name: f for _, f in functions(source) if f.kind == "modifier"}


def _guarded(modifiers: dict[str, Function], function: Function, before: int | None = None) -> bool:
    """Whether only some callers get through: a modifier that checks ``msg.sender`` (or is
    named like one, when inherited from elsewhere), or a condition on ``msg.sender``."""
    for word in function.modifiers:
        if word in FUNCTION_KEYWORDS:
            continue
        defined = modifiers.get(word)
        if defined is not None and _checks_sender(defined.body):
            return True
        if defined is None and _GUARD_NAME.search(word):
            return True
    body = function.body[:before] if before is not None else function.body
    if _checks_sender(body):
        return True
    return any(token.text in ("_checkOwner", "_checkRole", "_onlyOwner") for token in body)


def _checks_sender(body: list[Token]) -> bool:
    """Whether a condition compares the caller (``msg.sender``, or ``tx.origin``, whose own
    weakness the tx_origin check reports) or looks it up in a mapping."""
    for i in range(len(body) - 2):
        if body[i + 1].text == "." and (body[i].text, body[i + 2].text) in _CALLERS:
            condition = condition_of(body, i)
            if condition is not None and any(t.text in ("==", "!=") for t in condition):
                return True
            if condition is not None and any(t.text == "[" for t in condition):
                return True  # require(admins[msg.sender])
    return False


# -- the checks -----------------------------------------------------------------------------


def reentrancy(source: Source) -> list[Finding]:
    found = []
    state = {name for contract in source.contracts for name in contract.state_variables}
    for _, function in functions(source):
        if any(_REENTRANCY_GUARD.search(word) for word in function.modifiers):
            continue
        body = function.body
        calls = list(low_level_calls(body, ("call",)))
        if not calls:
            continue
        writes = [i for i in range(len(body)) if _is_state_write(body, i, state)]
        for call in calls:
            _, end = statement_bounds(body, call)
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
        body = function.body
        last_use = {token.text: i for i, token in enumerate(body) if token.kind == "ident"}
        for call in low_level_calls(body):
            start, end = statement_bounds(body, call)
            if _result_checked(body, start, end, call, last_use):
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


def _result_checked(
    body: list[Token], start: int, end: int, call: int, last_use: dict[str, int]
) -> bool:
    """Whether the call's success flag is tested: the call sits in a condition or a return,
    or the flag it is assigned to is read after the statement."""
    if body[start].text in (*_CONDITIONS, "return") or condition_of(body, call) is not None:
        return True
    assignment = next((i for i in range(start, call) if body[i].text == "="), None)
    if assignment is None:
        return False
    names = [
        t.text
        for t in body[start:assignment]
        if t.kind == "ident" and t.text not in ("bool", "bytes", "memory")
    ]
    return bool(names) and last_use.get(names[0], -1) > end


def tx_origin(source: Source) -> list[Finding]:
    found = []
    for _, function in functions(source):
        body = function.body
        for i in range(len(body) - 2):
            if not (
                body[i].text == "tx" and body[i + 1].text == "." and body[i + 2].text == "origin"
            ):
                continue
            start, end = statement_bounds(body, i)
            condition = condition_of(body, i) or body[start : end + 1]
            if not any(t.text in ("==", "!=") for t in condition):
                continue
            # tx.origin == msg.sender tells contracts from accounts: not authentication.
            if any(
                condition[k].text == "msg" and condition[k + 2].text == "sender"
                for k in range(len(condition) - 2)
            ):
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
    modifiers = _modifiers(source)
    for _, function in functions(source):
        if not function.callable_from_outside:
            continue
        body = function.body
        for i, token in enumerate(body[:-1]):
            if token.text in ("selfdestruct", "suicide") and body[i + 1].text == "(":
                if _guarded(modifiers, function, before=i):
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
    modifiers = _modifiers(source)
    for _, function in functions(source):
        if not function.callable_from_outside or not function.parameters:
            continue
        body = function.body
        for call in low_level_calls(body, ("delegatecall",)):
            target = {t.text for t in receiver(body, call - 1) if t.kind == "ident"}
            if not target & set(function.parameters) or _guarded(modifiers, function, call):
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
        body = function.body
        for i, token in enumerate(body):
            is_timestamp = (
                token.text == "block" and i + 2 < len(body) and body[i + 2].text == "timestamp"
            ) or (old and token.text == "now" and (i == 0 or body[i - 1].text != "."))
            if not is_timestamp:
                continue
            start, end = statement_bounds(body, i)
            statement = condition_of(body, i) or body[start : end + 1]
            texts = {t.text for t in statement}
            if "%" in texts or texts & {"keccak256", "sha3", "sha256"}:
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
            elif texts & set(_COMPARISONS) and (
                condition_of(body, i) is not None or body[start].text in _CONDITIONS
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
