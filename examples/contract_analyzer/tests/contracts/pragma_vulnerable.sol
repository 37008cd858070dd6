pragma solidity >=0.8.0 <0.9.0; // expect: floating_pragma

contract Greeter {
    string private greeting;

    function set(string calldata next) external {
        greeting = next;
    }
}
