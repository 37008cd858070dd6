pragma solidity 0.8.24;

contract Proxy {
    address public implementation;
    address public admin;

    constructor(address first) {
        admin = msg.sender;
        implementation = first;
    }

    function upgrade(address next) external {
        require(msg.sender == admin, "not admin");
        implementation = next;
    }

    function execute(bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory result) = implementation.delegatecall(data);
        require(ok, "failed");
        return result;
    }
}
