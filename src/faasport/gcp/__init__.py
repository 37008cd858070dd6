"""Google Cloud Functions and Cloud Run entry points.

``main.py`` of a function::

    from faasport import gcp

    api = gcp.handler("myapp.main:app")            # an HTTP function
    worker = gcp.event_handler("myapp.jobs:handle")  # a CloudEvent function

Neither functions-framework nor Flask is imported until the first request.
"""

from faasport.gcp.events import EventHandler, event_handler
from faasport.gcp.handler import GcpHandler, handler

__all__ = ["EventHandler", "GcpHandler", "event_handler", "handler"]
