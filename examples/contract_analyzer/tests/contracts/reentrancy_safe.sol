pragma solidity 0.8.24;

abstract contract ReentrancyGuard {
    uint256 private locked = 1;

    modifier nonReentrant() {
        require(locked == 1, "reentrant call");
        locked = 2;
        _;
        locked = 1;
    }
}

contract Vault is ReentrancyGuard {
    mapping(address => uint256) private shares;
    uint256 public totalShares;

    // The state changes after the call, but the lock keeps the callee out.
    function redeem() external nonReentrant {
        uint256 owed = shares[msg.sender];
        (bool ok, ) = payable(msg.sender).call{value: owed}("");
        require(ok, "failed");
        shares[msg.sender] = 0;
        totalShares -= owed;
    }

    // Only a local variable changes after the call.
    function ping(address target) external returns (uint256 count) {
        (bool ok, ) = target.call("");
        require(ok, "failed");
        count = 1;
    }
}
