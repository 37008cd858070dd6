"""Several invocations at once in one execution environment (Lambda Managed Instances).

Lambda sets ``AWS_LAMBDA_MAX_CONCURRENCY`` in an environment that may take that many
invocations at once, and its Runtime API then accepts as many concurrent ``/next``
long-polls and ``/response`` posts. faasport's runtime client serves them with one thread per
slot, each with its own connection: a WSGI app or a plain handler runs on that thread (so at
most N at a time), an ASGI app's coroutine is handed to the environment's event loop, which
runs on a thread of its own and interleaves all of them.

Each invocation gets a context of its own (:mod:`contextvars`): the request id and
cold-start flag of its log lines, and its X-Ray trace, which cannot go in the process-wide
``_X_AMZN_TRACE_ID`` while other invocations run; tasks the app starts inherit it.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback

from faasport.core import deferred, logcontext, trace
from faasport.core.loop import environment_loop

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from faasport.aws.runtime_client import RuntimeClient

VARIABLE = "AWS_LAMBDA_MAX_CONCURRENCY"


def max_concurrency() -> int:
    """Invocations this environment may take at once: ``$AWS_LAMBDA_MAX_CONCURRENCY``, or
    1 when it is unset or not a positive number."""
    value = os.environ.get(VARIABLE, "")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def serve(
    client: RuntimeClient,
    handler: Callable[[Any, Any], Any],
    workers: int,
    one: Callable[..., tuple[bytes, dict[str, str]]],
) -> None:
    """Serve invocations on ``workers`` threads until the process ends; ``one(client,
    handler, body, headers)`` runs an invocation and returns the next one."""
    # Work an app leaves after its response runs before the response here: with other
    # invocations in flight there is no "between two invocations" to run it in.
    deferred.enable(False)
    loop = environment_loop()
    loop.serve_in_thread()
    # ASGI lifespan shutdown on SIGTERM: only the main thread can take the signal.
    loop.close_on_sigterm()
    threads = [
        threading.Thread(
            target=_work,
            args=(client if n == 0 else type(client)(_address(client), client.unix_socket),),
            kwargs={"handler": handler, "one": one},
            name=f"faasport-invocation-{n}",
            daemon=True,
        )
        for n in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _address(client: RuntimeClient) -> str:
    host, port = client.address
    return f"{host}:{port}"


def _work(
    client: RuntimeClient,
    *,
    handler: Callable[[Any, Any], Any],
    one: Callable[..., tuple[bytes, dict[str, str]]],
) -> None:
    try:
        body, headers = client.next()
        while True:
            # A fresh context per invocation: a task the last one left running keeps its own.
            logcontext.isolate()["request_id"] = headers.get("lambda-runtime-aws-request-id")
            trace.isolate(headers.get("lambda-runtime-trace-id"))
            body, headers = one(client, handler, body, headers)
    except BaseException:
        # The Runtime API went away (the environment ends): the process ends, as the
        # single-threaded client's does, rather than live on with fewer slots.
        traceback.print_exc()
        sys.stdout.flush()
        os._exit(1)
