pragma solidity 0.7.6;

contract Killable {
    address payable public owner;

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    constructor() {
        owner = msg.sender;
    }

    function close() public onlyOwner {
        selfdestruct(owner);
    }

    function closeToo() external {
        require(msg.sender == owner, "not owner");
        selfdestruct(owner);
    }

    function cleanUp() internal {
        selfdestruct(owner);
    }
}
