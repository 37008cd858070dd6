"""An AWS-compatible endpoint for the function's own SDK calls in ``faasport dev``."""
