"""phoney: fake data from templates, generated in bulk (faasport's example service)."""
