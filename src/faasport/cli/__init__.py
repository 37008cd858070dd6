"""The ``faasport`` command line (a development tool: never shipped inside a function)."""
