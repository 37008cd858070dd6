pragma solidity 0.7.6;

contract Killable {
    address payable public owner;

    constructor() {
        owner = msg.sender;
    }

    function close() public {
        selfdestruct(owner); // expect: unprotected_selfdestruct
    }
}
