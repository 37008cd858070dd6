pragma solidity 0.8.24;

contract Payout {
    address public owner;

    constructor() {
        owner = msg.sender;
    }

    function pay(address payable to, uint256 amount) external {
        require(msg.sender == owner, "not owner");
        to.send(amount); // expect: unchecked_call
    }

    function forward(address target, bytes calldata data) external {
        require(msg.sender == owner, "not owner");
        (bool ok, ) = target.call(data); // expect: unchecked_call
    }
}
