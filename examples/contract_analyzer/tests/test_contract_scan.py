"""The index of a function body against the plain definitions it replaces (walk back to the
statement's start, forward to its end, out to the enclosing condition), on every token of
generated bodies with balanced brackets (on unbalanced ones both only have to finish)."""

from __future__ import annotations

from contract_analyzer.scan import CONDITIONS, Scan
from contract_analyzer.solidity import Token, strip, tokenize
from hypothesis import given, settings
from hypothesis import strategies as st

WORDS = ["a", ";", "=", "==", "require", "if", "x", ".", "call"]
PAIRS = [("(", ")"), ("[", "]"), ("{", "}")]


def _group(pair: tuple[str, str], parts: list[list[str]]) -> list[str]:
    return [pair[0], *(word for part in parts for word in part), pair[1]]


#: Token sequences with balanced brackets, nested.
FRAGMENTS = st.recursive(
    st.sampled_from(WORDS).map(lambda word: [word]),
    lambda inner: st.builds(_group, st.sampled_from(PAIRS), st.lists(inner, max_size=4)),
    max_leaves=20,
)


def statement(body: list[Token], index: int) -> tuple[int, int]:
    start, depth = index, 0
    while start > 0:
        text = body[start - 1].text
        if text in (")", "]"):
            depth += 1
        elif text in ("(", "[") and depth:
            depth -= 1
        elif depth == 0 and text in (";", "{", "}"):
            break
        start -= 1
    end, depth = index, 0
    while end < len(body) - 1:
        text = body[end].text
        if text in ("(", "[", "{"):
            depth += 1
        elif text in (")", "]", "}"):
            depth -= 1
            if depth < 0:
                break
        elif text == ";" and depth <= 0:
            break
        end += 1
    return start, end


def condition_open(body: list[Token], index: int) -> int:
    """The ``(`` of the innermost condition whose parentheses hold ``body[index]``."""
    depth, i = 0, index
    while i > 0:
        i -= 1
        text = body[i].text
        if text in (")", "]"):
            depth += 1
        elif text in ("(", "["):
            if depth:
                depth -= 1
            elif text == "(" and i > 0 and body[i - 1].text in CONDITIONS:
                return i
    return -1


@settings(max_examples=100, deadline=None)
@given(st.lists(FRAGMENTS, max_size=8))
def test_the_index_agrees_with_the_plain_definitions(fragments: list[list[str]]) -> None:
    words = [word for fragment in fragments for word in fragment]
    body = tokenize(strip(" ".join(words)))
    scan = Scan(body)
    for i in range(len(body)):
        assert scan.statement(i) == statement(body, i), (words, i)
        assert scan.condition_open[i] == condition_open(body, i), (words, i)


def test_counts_over_a_span() -> None:
    body = tokenize("require(msg.sender == a[1] && x != y); z = b % 2;")
    scan = Scan(body)
    condition = scan.condition(2)
    assert condition == (1, 14)
    assert scan.count("equality", condition) == 2
    assert scan.count("index", condition) == 1
    assert scan.count("msg.sender", condition) == 1
    assert scan.count("randomness", scan.statement(len(body) - 2)) == 1
