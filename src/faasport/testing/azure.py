"""``AzureClient``: requests to an ``azure.function_app`` as the Azure Functions Python
worker delivers them, in process.

The request goes through the worker's own converter (``HttpRequestConverter.decode`` of the
host's ``http`` datum) and the answer back through ``HttpResponseConverter.encode``, so a
test sees what the Functions host would send: one value per header name and each
Set-Cookie as the host renders it.
"""

from __future__ import annotations

from typing import Any

from faasport.testing.events import http_request
from faasport.testing.result import HttpClient, HttpResult


class AzureClient(HttpClient):
    """Calls the HTTP function ``name`` of ``function_app`` the way the worker does."""

    def __init__(self, function_app: Any, name: str | None = None) -> None:
        http = [f for f in functions(function_app) if f.is_http_function()]
        chosen = [f for f in http if name is None or f.get_function_name() == name]
        if not chosen:
            names = ", ".join(f.get_function_name() for f in http) or "none"
            raise ValueError(f"no HTTP function {name!r} in this function app (has: {names})")
        self.function = chosen[0]
        #: host.json's default route prefix, in front of every function route.
        self.prefix = "/api"

    def request(self, method: str, path: str = "/", **kwargs: Any) -> HttpResult:
        from azure.functions import meta
        from azure.functions.http import HttpRequestConverter, HttpResponseConverter

        canonical = http_request(method, path, **kwargs)
        headers: dict[str, str] = {}
        for key, value in canonical.headers:
            name = key.decode("latin-1")
            text = value.decode("utf-8")
            # The host joins repeated request headers into one value.
            headers[name] = f"{headers[name]}, {text}" if name in headers else text
        client = canonical.client[0] if canonical.client else "203.0.113.7"
        forwarded = headers.get("x-forwarded-for")
        headers["x-forwarded-for"] = (
            f"{forwarded}, {client}:49152" if forwarded else f"{client}:49152"
        )
        headers.setdefault("x-forwarded-proto", "https")
        host = headers.get("host", "example.com")
        raw_path = self.prefix + (canonical.raw_path or b"/").decode("ascii")
        query = canonical.query_string.decode("latin-1")
        url = f"https://{host}{raw_path}" + (f"?{query}" if query else "")
        datum = meta.Datum(
            type="http",
            value={
                "method": meta.Datum(type="string", value=canonical.method),
                "url": meta.Datum(type="string", value=url),
                "headers": {k: meta.Datum(type="string", value=v) for k, v in headers.items()},
                "query": {},
                "params": {"route": meta.Datum(type="string", value=canonical.path[1:])},
                "body": meta.Datum(type="bytes", value=canonical.body),
            },
        )
        request = HttpRequestConverter.decode(datum, trigger_metadata=None)
        response = invoke(self.function, req=request)
        out = HttpResponseConverter.encode(response, expected_type=None).value
        pairs = [(k.lower(), v.value) for k, v in out["headers"].items()]
        for cookie in out["cookies"] or ():
            pairs.extend(("set-cookie", morsel.OutputString()) for morsel in cookie.values())
        body = b"" if canonical.method == "HEAD" else out["body"].value
        return HttpResult(int(out["status_code"].value), pairs, body, response)


_loop: Any = None


def invoke(function: Any, **bindings: Any) -> Any:
    """Call an indexed function (from :func:`functions`) as the worker does: its bindings
    as keyword arguments plus ``context``; a coroutine function is awaited on one loop
    kept for the process, like the worker's own."""
    import asyncio
    import inspect

    global _loop
    result = function.get_user_function()(**bindings, context=FunctionContext(function))
    if not inspect.isawaitable(result):
        return result
    if _loop is None:
        import atexit

        _loop = asyncio.new_event_loop()
        atexit.register(close_loop, _loop)
    return _loop.run_until_complete(result)


def close_loop(loop: Any) -> None:
    """End the worker: cancel what still runs on its loop (ASGI lifespan), then close it."""
    import asyncio

    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:  # gather() of nothing would make its future on another loop
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()


def functions(function_app: Any) -> list[Any]:
    """The app's functions as the worker indexes them (``get_functions()``), any number of
    times: the library refuses a second indexing of the same names."""
    function_app.functions_bindings = None
    return list(function_app.get_functions())


class FunctionContext:
    """The ``func.Context`` the worker passes: invocation id, function name, directory."""

    def __init__(self, function: Any) -> None:
        import uuid

        self.invocation_id = str(uuid.uuid4())
        self.function_name = function.get_function_name()
        self.function_directory = "/home/site/wwwroot"
        self.trace_context = None
        self.retry_context = None
        self.thread_local_storage = None
