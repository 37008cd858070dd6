"""notes: a small Flask app."""
