pragma solidity 0.6.12;

contract Token {
    mapping(address => uint256) public balanceOf;
    uint256 public totalSupply;

    function transfer(address to, uint256 value) public returns (bool) {
        require(balanceOf[msg.sender] - value >= 0, "balance"); // expect: integer_overflow
        balanceOf[msg.sender] -= value; // expect: integer_overflow
        balanceOf[to] += value; // expect: integer_overflow
        return true;
    }

    function batch(uint256 count, uint256 value) public view returns (uint256) {
        return count * value; // expect: integer_overflow
    }
}
