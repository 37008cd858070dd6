pragma solidity 0.8.24;

contract Ledger {
    uint256 public lastUpdated;
    uint256 public closingBlock;
    event Updated(uint256 at);

    function update() external {
        require(block.number < closingBlock, "closed");
        lastUpdated = block.timestamp;
        emit Updated(block.timestamp);
    }
}
