// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0; // expect: floating_pragma

// The classic reentrancy: the balance is cleared after the Ether left.
contract VulnerableBank {
    mapping(address => uint256) public balances;

    function deposit() external payable {
        balances[msg.sender] += msg.value;
    }

    function withdraw(uint256 amount) external {
        require(balances[msg.sender] >= amount, "insufficient balance");
        msg.sender.call{value: amount}(""); // expect: reentrancy unchecked_call
        balances[msg.sender] -= amount;
    }
}
