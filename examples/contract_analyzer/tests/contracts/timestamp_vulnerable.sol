pragma solidity 0.8.24;

contract Lottery {
    uint256 public deadline;
    address[] public players;

    function enter() external payable {
        require(block.timestamp < deadline, "closed"); // expect: timestamp_dependence
        players.push(msg.sender);
    }

    function winner() external view returns (address) {
        uint256 index = block.timestamp % players.length; // expect: timestamp_dependence
        return players[index];
    }
}
