pragma solidity 0.8.24;

contract Wallet {
    address public owner;
    event Called(address origin);

    constructor() {
        owner = msg.sender;
    }

    function transferTo(address payable to, uint256 amount) external {
        require(msg.sender == owner, "not owner");
        emit Called(tx.origin);
        to.transfer(amount);
    }

    function onlyAccounts() external view returns (bool) {
        require(tx.origin == msg.sender, "no contracts");
        return true;
    }
}
