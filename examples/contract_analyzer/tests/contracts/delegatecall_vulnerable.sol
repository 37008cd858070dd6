pragma solidity 0.8.24;

contract Proxy {
    address public implementation;

    function execute(address target, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory result) = target.delegatecall(data); // expect: delegatecall_untrusted
        require(ok, "failed");
        return result;
    }
}
