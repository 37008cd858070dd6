"""The packaging tests' project."""
