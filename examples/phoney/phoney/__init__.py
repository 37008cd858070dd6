"""phoney: the example app of faasport."""
