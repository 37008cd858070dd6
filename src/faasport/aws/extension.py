"""An internal Lambda extension, so that ASGI lifespan shutdown runs when Lambda ends the
execution environment.

Lambda sends SIGTERM to the runtime process (and gives it 500 ms) only when an extension is
registered; otherwise it freezes and kills the environment, and no shutdown code ever runs.
:func:`register` registers one from inside the runtime process, during init (before the
runtime's first ``/next``), for no events (internal extensions cannot receive SHUTDOWN), and
keeps a daemon thread in the Extensions API's ``/event/next`` as Lambda requires. The SIGTERM
handler faasport installs when lifespan startup runs (``core/runner.py``) then runs shutdown.

The generated ``faasport_handler`` module calls it at import, so it works under AWS's runtime
client (``awslambdaric``), faasport's own, and ``faasport dev``.
"""

from __future__ import annotations

import os

NAME = "faasport"
_registered: list[str] = []


def register() -> str | None:
    """Register once per process; the extension's identifier, or None outside Lambda (or
    when registration is refused, which must never fail the function's init)."""
    if _registered:
        return _registered[0]
    if not os.environ.get("AWS_LAMBDA_RUNTIME_API"):
        return None
    import contextlib
    import sys
    import threading

    from faasport.aws.runtime_client import EXTENSION_PREFIX, RuntimeClient

    client = RuntimeClient.from_environment()
    try:
        status, headers, body = client.request(
            "POST",
            f"{EXTENSION_PREFIX}/register",
            b'{"events":[]}',
            {"Lambda-Extension-Name": NAME},
        )
    except OSError as exc:
        sys.stderr.write(f"faasport: could not register the shutdown extension: {exc}\n")
        return None
    identifier = headers.get("lambda-extension-identifier")
    if status != 200 or not identifier:
        text = body.decode("utf-8", "replace")[:200]
        sys.stderr.write(f"faasport: the shutdown extension was refused ({status}): {text}\n")
        return None
    _registered.append(identifier)

    def wait_for_events() -> None:
        # Registered for no events, this long-poll only ends with the environment.
        with contextlib.suppress(OSError):
            client.request(
                "GET",
                f"{EXTENSION_PREFIX}/event/next",
                headers={"Lambda-Extension-Identifier": identifier},
            )

    threading.Thread(target=wait_for_events, name="faasport-extension", daemon=True).start()
    return identifier
