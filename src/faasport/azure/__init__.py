"""Azure Functions entry points (Python v2 programming model).

``function_app.py`` of a function app::

    from faasport import azure

    app = azure.function_app("myapp.main:app")
    azure.queue_trigger(app, "myapp.jobs:handle", name="worker", queue="jobs")

azure-functions is imported when ``function_app`` is called, never by ``import
faasport.azure``; the app itself is imported on the first request that needs it.
"""

from faasport.azure.app import (
    event_grid_trigger,
    function_app,
    http_trigger,
    queue_trigger,
    timer_trigger,
)

__all__ = [
    "event_grid_trigger",
    "function_app",
    "http_trigger",
    "queue_trigger",
    "timer_trigger",
]
