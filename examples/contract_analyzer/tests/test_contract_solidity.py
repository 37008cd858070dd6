"""The Solidity reader: comments and strings blanked with every offset and line kept, tokens
with their lines, and contracts cut into state variables and function bodies."""

from __future__ import annotations

from contract_analyzer.solidity import parse, strip, tokenize
from contract_analyzer.static import analyze
from hypothesis import given, settings
from hypothesis import strategies as st

SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;

/* A contract
   with a comment */
contract Shop is Base, Other {
    struct Item { uint256 price; string name; }
    event Bought(address indexed who, uint256 amount);
    using Lib for uint256;
    mapping(address => mapping(uint256 => uint256)) public orders;
    uint256 private constant FEE = 3;
    address payable owner = payable(msg.sender);
    string greeting = "hi; // not a comment";

    modifier onlyOwner {
        require(msg.sender == owner, "owner");
        _;
    }

    function buy(uint256 id, bytes calldata note) external payable onlyOwner returns (bool ok) {
        orders[msg.sender][id] += msg.value;
        return true;
    }

    function price(uint256 id) public view virtual override(Base, Other) returns (uint256);

    receive() external payable {}
}

interface IShop { function buy(uint256 id) external; }
"""


def test_strip_blanks_comments_and_strings_and_keeps_every_offset() -> None:
    stripped = strip(SOURCE)
    assert len(stripped) == len(SOURCE)
    assert [i for i, c in enumerate(stripped) if c == "\n"] == [
        i for i, c in enumerate(SOURCE) if c == "\n"
    ]
    assert "SPDX" not in stripped and "with a comment" not in stripped
    assert "not a comment" not in stripped
    assert 'greeting = "                    ";' in stripped
    assert '"owner"' not in stripped and 'require(msg.sender == owner, "     ");' in stripped


def test_escaped_quotes_stay_inside_their_string() -> None:
    inner = 'a\\"b; selfdestruct(x)'
    assert strip(f'x = "{inner}"; y;') == 'x = "' + " " * len(inner) + '"; y;'
    assert strip("x = 'it\\'s'; z;") == "x = '     '; z;"


def test_tokens_carry_their_line() -> None:
    tokens = tokenize(strip("a\n/* x\n y */ b >>= 0x1F;\nc++"))
    assert [(t.text, t.line) for t in tokens] == [
        ("a", 1),
        ("b", 3),
        (">>=", 3),
        ("0x1F", 3),
        (";", 3),
        ("c", 4),
        ("++", 4),
    ]


def test_contracts_state_variables_and_functions() -> None:
    source = parse(SOURCE)
    assert source.pragmas == [("^0.8.0", 2)]
    shop, ishop = source.contracts
    assert (shop.kind, shop.name, shop.line) == ("contract", "Shop", 6)
    assert shop.state_variables == {"orders", "FEE", "owner", "greeting"}
    assert [(f.kind, f.name, f.line) for f in shop.functions] == [
        ("modifier", "onlyOwner", 15),
        ("function", "buy", 20),
        ("receive", "receive", 27),
    ]
    buy = shop.functions[1]
    assert buy.parameters == ["id", "note"]
    assert buy.modifiers == ["external", "payable", "onlyOwner", "returns"]
    assert buy.visibility == "external" and buy.callable_from_outside
    assert [t.text for t in buy.body][:4] == ["orders", "[", "msg", "."]
    assert (ishop.kind, ishop.functions) == ("interface", [])


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("contract function{}()[];=+-*/\"'\\\n .x_0tx"))))
def test_any_text_is_read_without_error(text: str) -> None:
    assert len(strip(text)) == len(text)
    analyze(text)
