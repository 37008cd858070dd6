// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

// Checks, effects, interactions: the balance goes down before the call, whose result is checked.
// A comment saying msg.sender.call{value: amount}("") then balances[msg.sender] -= amount is no code.
contract SafeBank {
    mapping(address => uint256) public balances;
    string public constant NOTE = "selfdestruct(payable(msg.sender)); tx.origin == owner";

    function deposit() external payable {
        balances[msg.sender] += msg.value;
    }

    function withdraw(uint256 amount) external {
        require(balances[msg.sender] >= amount, "insufficient balance");
        balances[msg.sender] -= amount;
        (bool sent, ) = msg.sender.call{value: amount}("");
        require(sent, "transfer failed");
    }
}
