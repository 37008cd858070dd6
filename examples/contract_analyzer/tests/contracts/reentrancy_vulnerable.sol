pragma solidity 0.8.24;

contract Vault {
    mapping(address => uint256) private shares;
    uint256 public totalShares;

    function redeem() external {
        uint256 owed = shares[msg.sender];
        (bool ok, ) = payable(msg.sender).call{value: owed}(""); // expect: reentrancy
        require(ok, "failed");
        shares[msg.sender] = 0;
        totalShares -= owed;
    }
}
