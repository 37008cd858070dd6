pragma solidity 0.8.24;

contract Wallet {
    address public owner;

    constructor() {
        owner = msg.sender;
    }

    function transferTo(address payable to, uint256 amount) external {
        require(tx.origin == owner, "not owner"); // expect: tx_origin
        to.transfer(amount);
    }
}
