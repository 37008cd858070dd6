"""One function body indexed in two linear passes, so that every question a check asks about
a token (its statement, the condition around it, what that range holds) is answered without
rescanning: a contract built to make scans long (thousands of nested calls in one
statement) costs time in proportion to its size, not to its square."""

from __future__ import annotations

from collections.abc import Callable
from itertools import accumulate

from contract_analyzer.solidity import Token

CONDITIONS = ("require", "assert", "if", "while")
#: Token classes whose counts over a range are asked for, each a test on (body, index).
_CLASSES: dict[str, Callable[[list[Token], int], bool]] = {
    "equality": lambda body, i: body[i].text in ("==", "!="),
    "comparison": lambda body, i: body[i].text in ("<", ">", "<=", ">=", "==", "!="),
    "index": lambda body, i: body[i].text == "[",
    "randomness": lambda body, i: body[i].text in ("%", "keccak256", "sha3", "sha256"),
    "msg.sender": lambda body, i: is_member(body, i, "msg", "sender"),
}


def is_member(body: list[Token], i: int, owner: str, member: str) -> bool:
    """Whether ``body[i:i + 3]`` is ``owner . member``."""
    return (
        i + 2 < len(body)
        and body[i].text == owner
        and body[i + 1].text == "."
        and body[i + 2].text == member
    )


class Scan:
    def __init__(self, body: list[Token]) -> None:
        self.body = body
        n = len(body)
        #: For ``(``, ``[`` and ``{``: the index of the bracket closing it (else the last).
        self.close = [n - 1] * n
        #: The first and last index of each token's statement (see :meth:`statement`).
        self.start = [0] * n
        self.end = [n - 1] * n
        #: The ``(`` of the innermost ``require``/``assert``/``if``/``while`` condition
        #: around each token, or -1.
        self.condition_open = [-1] * n
        #: The last ``=`` at or before each index, or -1.
        self.last_assignment = [-1] * n
        self._forward()
        self._backward()
        self._counts = {
            name: [0, *accumulate(1 if test(body, i) else 0 for i in range(n))]
            for name, test in _CLASSES.items()
        }

    def _forward(self) -> None:
        body = self.body
        # Per open ``(``/``[`` (and the body itself): the last statement boundary seen at
        # that level, and the innermost condition it is in.
        frames = [[-1, -1]]
        opened: list[int] = []
        last_assignment = -1
        for i, token in enumerate(body):
            text = token.text
            top = frames[-1]
            self.start[i] = top[0] + 1
            self.condition_open[i] = top[1]
            if text == "=":
                last_assignment = i
            self.last_assignment[i] = last_assignment
            if text in ("(", "["):
                condition = text == "(" and i > 0 and body[i - 1].text in CONDITIONS
                frames.append([top[0], i if condition else top[1]])
            elif text in (")", "]"):
                if len(frames) > 1:
                    frames.pop()
            elif text in (";", "{", "}"):
                top[0] = i
            if text in ("(", "[", "{"):
                opened.append(i)
            elif text in (")", "]", "}") and opened:
                self.close[opened.pop()] = i

    def _backward(self) -> None:
        # Per bracket group entered from the right: where a statement inside it stops.
        stops = [len(self.body) - 1]
        for i in range(len(self.body) - 1, -1, -1):
            text = self.body[i].text
            if text == ";":
                stops[-1] = i
                self.end[i] = i
            elif text in (")", "]", "}"):
                stops.append(i)
                self.end[i] = i
            elif text in ("(", "[", "{"):
                if len(stops) > 1:
                    stops.pop()
                self.end[i] = stops[-1]
            else:
                self.end[i] = stops[-1]

    def statement(self, i: int) -> tuple[int, int]:
        """The first and last index of the statement holding ``body[i]``: from after the
        previous ``;``, ``{`` or ``}`` outside brackets to its ``;``, or to the closing
        bracket of the condition it is in (``if (...)``: the block after it is other
        statements)."""
        return self.start[i], self.end[i]

    def condition(self, i: int) -> tuple[int, int] | None:
        """The parentheses of the condition around ``body[i]``, if any."""
        opening = self.condition_open[i]
        return None if opening < 0 else (opening, self.close[opening])

    def condition_or_statement(self, i: int) -> tuple[int, int]:
        return self.condition(i) or self.statement(i)

    def count(self, name: str, span: tuple[int, int]) -> int:
        """How many tokens of class ``name`` lie in ``span`` (first and last index)."""
        counts = self._counts[name]
        return counts[span[1] + 1] - counts[span[0]]
