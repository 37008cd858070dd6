"""A small Solidity reader: comments and string literals blanked out (line numbers kept), the
rest split into tokens, and the source cut into contracts, state variables and function
bodies. Enough structure for the detectors, without a full parser: what it does not
understand it skips rather than guesses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from contract_analyzer.scan import Scan

_TOKEN = re.compile(
    r"""
    (?P<ident>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<number>0[xX][0-9a-fA-F_]+|[0-9][0-9_]*(?:\.[0-9_]+)?(?:[eE][0-9]+)?)
    | (?P<string>"[ ]*"|'[ ]*')
    | (?P<op>>>>=|<<=|>>=|>>>|\*\*|\+\+|--|&&|\|\||==|!=|<=|>=|\+=|-=|\*=|/=|%=|\|=|&=|\^=
        |=>|<<|>>|->|[-+*/%=<>!~&|^?:;,.(){}\[\]])
    """,
    re.VERBOSE,
)

#: Keywords after a function's parameter list that are not modifiers.
FUNCTION_KEYWORDS = frozenset(
    {
        "public",
        "external",
        "internal",
        "private",
        "view",
        "pure",
        "payable",
        "constant",
        "virtual",
        "override",
        "returns",
    }
)


class Token(NamedTuple):  # a tuple: contracts have hundreds of thousands of tokens
    kind: str  # ident, number, string, op
    text: str
    line: int


@dataclass
class Function:
    """A function, modifier, constructor, fallback or receive function with a body."""

    kind: str  # function, modifier, constructor, fallback, receive
    name: str
    line: int
    parameters: list[str]
    modifiers: list[str]  # every word between the parameters and the body
    body: list[Token]

    @cached_property
    def scan(self) -> Scan:
        """The body, indexed for the checks (built on first use)."""
        from contract_analyzer.scan import Scan

        return Scan(self.body)

    @property
    def visibility(self) -> str:
        for word in ("external", "public", "internal", "private"):
            if word in self.modifiers:
                return word
        # Before 0.5 a function without a visibility was public.
        return "public" if self.kind in ("function", "fallback", "receive") else "internal"

    @property
    def callable_from_outside(self) -> bool:
        return self.kind != "modifier" and self.visibility in ("public", "external")


@dataclass
class Contract:
    kind: str  # contract, library, interface, abstract
    name: str
    line: int
    state_variables: set[str] = field(default_factory=set)
    functions: list[Function] = field(default_factory=list)


@dataclass
class Source:
    text: str
    stripped: str
    tokens: list[Token]
    contracts: list[Contract]
    pragmas: list[tuple[str, int]]  # (the version expression, line)


_SPECIAL = re.compile(r"//|/\*|[\"']")


def strip(text: str) -> str:
    """``text`` with every comment and string literal's content replaced by spaces; newlines
    stay, so a token's line in the result is its line in ``text``."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        found = _SPECIAL.search(text, i)
        if found is None:
            out.append(text[i:])
            break
        out.append(text[i : found.start()])
        i = found.start()
        if found.group() == "//":
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif found.group() == "/*":
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(_blank(text[i:end]))
            i = end
        else:
            quote = found.group()
            j = i + 1
            while j < n and text[j] != quote and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            end = min(j + 1, n)
            out.append(quote + _blank(text[i + 1 : end - 1]) + (quote if end - 1 > i else ""))
            i = end
    return "".join(out)


def _blank(text: str) -> str:
    return "".join("\n" if c == "\n" else " " for c in text)


def tokenize(stripped: str) -> list[Token]:
    tokens: list[Token] = []
    line = 1
    position = 0
    for match in _TOKEN.finditer(stripped):
        line += stripped.count("\n", position, match.start())
        position = match.start()
        kind = match.lastgroup or "op"
        tokens.append(Token(kind, match.group(), line))
    return tokens


def parse(text: str) -> Source:
    stripped = strip(text)
    tokens = tokenize(stripped)
    return Source(text, stripped, tokens, _contracts(tokens), _pragmas(tokens))


def matching(tokens: list[Token], start: int) -> int:
    """The index of the bracket closing the one at ``start`` (or the last index)."""
    opening = tokens[start].text
    closing = {"(": ")", "{": "}", "[": "]"}[opening]
    depth = 0
    for i in range(start, len(tokens)):
        text = tokens[i].text
        if text == opening:
            depth += 1
        elif text == closing:
            depth -= 1
            if depth == 0:
                return i
    return len(tokens) - 1


def _pragmas(tokens: list[Token]) -> list[tuple[str, int]]:
    found = []
    for i, token in enumerate(tokens):
        if (
            token.text == "pragma"
            and i + 1 < len(tokens)
            and tokens[i + 1].text == "solidity"
            and (i == 0 or tokens[i - 1].text in (";", "}"))
        ):
            end = i + 2
            while end < len(tokens) and tokens[end].text != ";":
                end += 1
            expression = _joined(tokens[i + 2 : end])
            if expression:
                found.append((expression, token.line))
    return found


def _joined(tokens: list[Token]) -> str:
    """A version expression's tokens as written: ``>=0.6.0 <0.8.0``, ``^0.8.0``."""
    text = ""
    for token in tokens:
        if (text and token.text[0].isdigit() and text[-1] in "0123456789") or (
            text and token.text[0] in "<>=^~" and text[-1] not in "<>=^~ "
        ):
            text += " "
        text += token.text
    return text


_CONTRACT_KINDS = ("contract", "library", "interface")


def _contracts(tokens: list[Token]) -> list[Contract]:
    contracts = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if (
            token.text in _CONTRACT_KINDS
            and i + 1 < len(tokens)
            and tokens[i + 1].kind == "ident"
            and (i == 0 or tokens[i - 1].text in (";", "}", "abstract"))
        ):
            brace = i + 2
            while brace < len(tokens) and tokens[brace].text not in ("{", ";"):
                brace += 1
            if brace >= len(tokens) or tokens[brace].text == ";":
                i = brace + 1
                continue
            end = matching(tokens, brace)
            kind = "abstract" if i > 0 and tokens[i - 1].text == "abstract" else token.text
            contract = Contract(kind, tokens[i + 1].text, token.line)
            _members(contract, tokens[brace + 1 : end])
            contracts.append(contract)
            i = end + 1
        else:
            i += 1
    return contracts


_FUNCTION_STARTS = ("function", "modifier", "constructor", "fallback", "receive")
_NOT_VARIABLES = ("event", "error", "struct", "enum", "using", "type")


def _members(contract: Contract, tokens: list[Token]) -> None:
    """Functions and state variables of one contract body."""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.text in _FUNCTION_STARTS:
            i = _function(contract, tokens, i)
        elif token.text in _NOT_VARIABLES:
            i = _skip_declaration(tokens, i)
        else:
            end = i
            while end < len(tokens) and tokens[end].text not in (";", "{"):
                if tokens[end].text in ("(", "["):
                    end = matching(tokens, end)
                end += 1
            if end < len(tokens) and tokens[end].text == ";":
                name = _declared_name(tokens[i:end])
                if name:
                    contract.state_variables.add(name)
                i = end + 1
            elif end < len(tokens):
                i = matching(tokens, end) + 1
            else:
                i = end


def _skip_declaration(tokens: list[Token], i: int) -> int:
    while i < len(tokens) and tokens[i].text not in (";", "{"):
        i += 1
    if i < len(tokens) and tokens[i].text == "{":
        return matching(tokens, i) + 1
    return i + 1


def _declared_name(statement: list[Token]) -> str | None:
    """The variable a state declaration like ``mapping(address => uint) public balances =
    ...`` declares: the last identifier before ``=``."""
    before: list[Token] = []
    depth = 0
    for token in statement:
        if token.text == "=" and depth == 0:
            break
        if token.text in ("(", "["):
            depth += 1
        elif token.text in (")", "]"):
            depth -= 1
        elif depth == 0:
            before.append(token)
    names = [t for t in before if t.kind == "ident"]
    if len(names) < 2:  # a type and a name at least
        return None
    return names[-1].text


def _function(contract: Contract, tokens: list[Token], i: int) -> int:
    kind = tokens[i].text
    start = i
    name = kind
    j = i + 1
    if j < len(tokens) and tokens[j].kind == "ident" and tokens[j].text != "(":
        name = tokens[j].text
        j += 1
    if kind == "function" and name in ("fallback", "receive"):
        kind = name
    if j >= len(tokens) or tokens[j].text != "(":
        if kind == "modifier":  # a modifier without parameters
            close = j - 1
        else:
            return _skip_declaration(tokens, i)
    else:
        close = matching(tokens, j)
    parameters = _parameter_names(tokens[j + 1 : close]) if close >= j else []
    k = close + 1
    words: list[str] = []
    while k < len(tokens) and tokens[k].text not in ("{", ";"):
        if tokens[k].text == "(":
            k = matching(tokens, k)
        elif tokens[k].kind == "ident":
            words.append(tokens[k].text)
        k += 1
    if k >= len(tokens) or tokens[k].text == ";":
        return k + 1  # declared without a body
    end = matching(tokens, k)
    contract.functions.append(
        Function(kind, name, tokens[start].line, parameters, words, tokens[k + 1 : end])
    )
    return end + 1


def _parameter_names(tokens: list[Token]) -> list[str]:
    names = []
    current: list[Token] = []
    depth = 0
    for token in [*tokens, Token("op", ",", 0)]:
        if token.text in ("(", "["):
            depth += 1
        elif token.text in (")", "]"):
            depth -= 1
        if token.text == "," and depth == 0:
            idents = [t for t in current if t.kind == "ident"]
            if len(idents) >= 2:
                names.append(idents[-1].text)
            current = []
        else:
            current.append(token)
    return names
