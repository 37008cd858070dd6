pragma solidity 0.8.24;

contract Payout {
    address public owner;

    constructor() {
        owner = msg.sender;
    }

    function pay(address payable to, uint256 amount) external {
        require(msg.sender == owner, "not owner");
        if (!to.send(amount)) {
            revert("send failed");
        }
    }

    function forward(address target, bytes calldata data) external returns (bytes memory) {
        require(msg.sender == owner, "not owner");
        (bool ok, bytes memory result) = target.call(data);
        require(ok, "call failed");
        return result;
    }

    function probe(address target) external view returns (bool) {
        (bool ok, ) = target.staticcall("");
        return ok;
    }

    function transferOut(address payable to) external {
        require(msg.sender == owner, "not owner");
        to.transfer(address(this).balance);
    }
}
