pragma solidity ^0.4.24; // expect: floating_pragma

// The pre-0.5 style: a constructor named after the contract, `now`, .call.value()().
contract EtherStore {
    uint256 public withdrawalLimit = 1 ether;
    mapping(address => uint256) public lastWithdrawTime;
    mapping(address => uint256) public balances;
    address owner;

    function EtherStore() public {
        owner = msg.sender;
    }

    function depositFunds() public payable {
        balances[msg.sender] += msg.value; // expect: integer_overflow
    }

    function withdrawFunds(uint256 _weiToWithdraw) public {
        require(balances[msg.sender] >= _weiToWithdraw);
        require(_weiToWithdraw <= withdrawalLimit);
        require(now >= lastWithdrawTime[msg.sender] + 1 weeks); // expect: timestamp_dependence integer_overflow
        require(msg.sender.call.value(_weiToWithdraw)()); // expect: reentrancy
        balances[msg.sender] -= _weiToWithdraw; // expect: integer_overflow
        lastWithdrawTime[msg.sender] = now;
    }

    function kill() public {
        require(tx.origin == owner); // expect: tx_origin
        selfdestruct(owner);
    }
}
