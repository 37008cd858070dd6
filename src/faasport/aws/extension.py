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

    if "awslambdaric" in sys.modules:
        _take_sigterm_in_a_thread()  # first: threads started after it keep SIGTERM blocked
    threading.Thread(target=wait_for_events, name="faasport-extension", daemon=True).start()
    return identifier


def _take_sigterm_in_a_thread() -> None:
    """awslambdaric waits for the next invocation in native code that resumes its wait
    after a signal, so a Python SIGTERM handler would run only after the next invocation:
    SIGTERM is blocked in the runtime's threads and taken by a thread of its own, which runs
    the handler (lifespan shutdown, or the app's own) and ends the process."""
    import signal
    import sys
    import threading

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})

    def take() -> None:
        signal.sigwait({signal.SIGTERM})
        handler = signal.getsignal(signal.SIGTERM)
        if not callable(handler):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
            os.kill(os.getpid(), signal.SIGTERM)  # the default action, from this thread
            return
        try:
            handler(signal.SIGTERM, None)
        except ValueError:  # re-installing a handler is for the main thread only
            pass
        except BaseException:
            import traceback

            traceback.print_exc()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(0)

    threading.Thread(target=take, name="faasport-sigterm", daemon=True).start()
