"""Work an invocation may finish after its response is sent.

A runtime client that posts each response before asking for the next invocation (faasport's
own, ``faasport.aws.runtime_client``) calls :func:`enable` once; the ASGI bridge then hands
it what is left of an app's work once the response is complete (Starlette and FastAPI
background tasks, tasks the request started) through :func:`defer`, and the client runs it
with :func:`run` after posting. Elsewhere (``awslambdaric``, functions-framework, tests
calling a handler) :func:`defer` refuses, and the bridge finishes that work before it
returns, since nothing would run it later.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_enabled: list[bool] = [False]
_pending: list[Callable[[], None]] = []


def enable(on: bool = True) -> None:
    """Let :func:`defer` accept work: the caller promises to :func:`run` it after each
    invocation's response is sent."""
    _enabled[0] = on


def defer(work: Callable[[], None]) -> bool:
    """Keep ``work`` for :func:`run`; False (and nothing kept) when deferral is off."""
    if not _enabled[0]:
        return False
    _pending.append(work)
    return True


def pending() -> bool:
    return bool(_pending)


def run() -> None:
    """Run the deferred work in the order it came; a failure is logged and the rest runs."""
    while _pending:
        work = _pending.pop(0)
        try:
            work()
        except Exception:
            from faasport.core.logs import logger

            logger().exception("work deferred after the response failed")
