"""faasport: one Python web app as serverless functions on every cloud."""

__version__ = "0.1.0"
