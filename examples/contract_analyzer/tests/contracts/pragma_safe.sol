pragma solidity 0.8.24;

contract Greeter {
    string private greeting;

    function set(string calldata next) external {
        greeting = next;
    }
}
