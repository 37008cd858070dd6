"""Smart-contract security analysis: a static analyzer for Solidity, optional AI review,
results cached in the state store, an HTTP API and a bucket trigger."""
