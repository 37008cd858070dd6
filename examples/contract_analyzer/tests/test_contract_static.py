"""The static analyzer against one contract per check that has the flaw (its lines marked
``// expect: TYPE``) and one that does not: every marked finding is reported on its line,
nothing else of that type, and the safe contracts get no finding at all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from contract_analyzer.findings import score
from contract_analyzer.static import analyze

CONTRACTS = Path(__file__).with_name("contracts")
VULNERABLE = sorted(CONTRACTS.glob("*_vulnerable.sol"))
SAFE = sorted(CONTRACTS.glob("*_safe*.sol"))
TYPES = {
    "reentrancy",
    "unchecked_call",
    "tx_origin",
    "unprotected_selfdestruct",
    "delegatecall_untrusted",
    "integer_overflow",
    "timestamp_dependence",
    "floating_pragma",
}


def expected(path: Path) -> set[tuple[str, int]]:
    marks = set()
    for number, line in enumerate(path.read_text().splitlines(), 1):
        found = re.search(r"// expect: (.*)$", line)
        if found:
            marks.update((kind, number) for kind in found.group(1).split())
    return marks


def test_every_check_has_a_vulnerable_and_a_safe_contract() -> None:
    assert {kind for path in VULNERABLE for kind, _ in expected(path)} == TYPES
    assert len(SAFE) >= len(VULNERABLE)


@pytest.mark.parametrize("path", VULNERABLE, ids=lambda p: p.stem)
def test_a_vulnerable_contract_gets_exactly_its_findings(path: Path) -> None:
    found = {(f.type, f.line_number) for f in analyze(path.read_text())}
    assert found == expected(path)


@pytest.mark.parametrize("path", SAFE, ids=lambda p: p.stem)
def test_a_safe_contract_gets_no_finding(path: Path) -> None:
    assert [(f.type, f.line_number) for f in analyze(path.read_text())] == []


def test_the_vulnerable_bank_reports_reentrancy_and_the_unchecked_call_on_the_call_line() -> None:
    findings = analyze((CONTRACTS / "bank_vulnerable.sol").read_text())
    by_type = {f.type: f for f in findings}
    assert (by_type["reentrancy"].severity, by_type["reentrancy"].line_number) == ("critical", 14)
    assert (by_type["unchecked_call"].severity, by_type["unchecked_call"].line_number) == (
        "high",
        14,
    )
    assert "balances" in by_type["reentrancy"].description
    assert findings[0].type == "reentrancy"  # worst first
    assert score(findings) == 100 - 30 - 15 - 2


def test_comments_and_strings_never_trigger_a_finding() -> None:
    code = """pragma solidity 0.8.24;
contract Quiet {
    string private note = "selfdestruct(payable(msg.sender)); tx.origin == owner";
    /* function kill() public { selfdestruct(payable(msg.sender)); }
       msg.sender.call{value: 1}(""); balances[msg.sender] = 0; */
    // require(tx.origin == owner);
    function hello() external pure returns (string memory) {
        return "block.timestamp % 7 == 0 /* not a comment */";
    }
}
"""
    assert analyze(code) == []


def test_line_numbers_survive_multi_line_comments_and_strings() -> None:
    code = 'pragma solidity 0.8.24;\n/*\n\n*/\ncontract C {\n  string s = "a\\"b";\n' + (
        "  function kill() public {\n    selfdestruct(payable(msg.sender));\n  }\n}\n"
    )
    [finding] = analyze(code)
    assert (finding.type, finding.line_number) == ("unprotected_selfdestruct", 8)


def test_old_call_value_syntax_is_a_call_too() -> None:
    code = """pragma solidity 0.4.26;
contract Old {
    mapping(address => uint) balances;
    function withdraw() public {
        uint amount = balances[msg.sender];
        msg.sender.call.value(amount)();
        balances[msg.sender] = 0;
    }
}
"""
    found = {(f.type, f.line_number) for f in analyze(code)}
    assert {("reentrancy", 6), ("unchecked_call", 6)} <= found


def test_now_counts_as_the_timestamp_before_solidity_0_7_only() -> None:
    template = """pragma solidity {version};
contract T {{
    uint end;
    function open() public view returns (bool) {{
        uint now_ = 1;
        require(now >= end);
        return true;
    }}
}}
"""
    old = {f.type for f in analyze(template.format(version="0.6.12"))}
    assert "timestamp_dependence" in old
    # From 0.7 `now` is no longer the timestamp: a variable of that name is just a name.
    new = {f.type for f in analyze(template.format(version="0.8.24"))}
    assert "timestamp_dependence" not in new


@pytest.mark.parametrize(
    ("pragma", "overflow"),
    [
        ("^0.7.6", True),
        (">=0.6.0 <0.8.0", True),
        (">=0.7.0 <0.9.0", True),
        ("^0.8.0", False),
        ("0.8.24", False),
        ("0.5.17 || ^0.8.0", True),
    ],
)
def test_overflow_depends_on_the_oldest_compiler_the_pragma_allows(
    pragma: str, overflow: bool
) -> None:
    contract = "contract C { uint t; function f(uint a) public { t += a; } }"
    code = f"pragma solidity {pragma};\n{contract}\n"
    assert ("integer_overflow" in {f.type for f in analyze(code)}) is overflow


def test_input_that_is_not_solidity_gets_no_finding_and_no_error() -> None:
    for text in ("", "}}}{{{", "contract", "function f( {", "pragma solidity", "/* open", '"open'):
        assert analyze(text) == []


def test_a_call_in_an_if_condition_is_checked_and_still_a_reentrancy() -> None:
    code = """pragma solidity 0.8.24;
contract Bank {
    mapping(address => uint256) balances;
    function withdraw(uint256 amount) external {
        if (!payable(msg.sender).send(amount)) {
            revert("failed");
        }
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (ok) { balances[msg.sender] -= amount; }
    }
}
"""
    found = {(f.type, f.line_number) for f in analyze(code)}
    assert found == {("reentrancy", 8)}


def test_a_state_write_after_the_block_of_an_if_holding_the_call_is_seen() -> None:
    code = """pragma solidity 0.4.26;
contract Old {
    mapping(address => uint256) balances;
    function withdraw() public {
        if (!msg.sender.call.value(balances[msg.sender])()) {
            throw;
        }
        balances[msg.sender] = 0;
    }
}
"""
    assert {(f.type, f.line_number) for f in analyze(code)} == {("reentrancy", 5)}
