"""Running policies in order around an app, the same for sync (WSGI, the local gateway)
and async (ASGI) callers.

A policy whose state store fails (unreachable, refusing) fails closed: the request is
answered 503 ``{"message":"Service Unavailable"}`` and the log names the policy and the store
(never its password). Past the app, a response whose head is not yet sent is replaced the
same way when a policy cannot save what it must (a session), so that is never a silent 200.
"""

from __future__ import annotations

from faasport.core.logs import logger
from faasport.gateway.request import Response, StreamedBody
from faasport.state.base import StateError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from typing import Any

    from faasport.gateway.request import Policy, Request

#: A streamed response's body is kept for the policies that ask for it (idempotency stores
#: it) up to this size: what a buffered Lambda response may carry.
STREAM_KEEP = 6 * 1024 * 1024


class Pipeline:
    """Policies run in the given order before the app and in reverse after it; a policy
    that answers ends the request, and the policies before it still ``finish`` it (so a
    401 carries CORS headers, a 429 the rate-limit headers)."""

    def __init__(self, policies: Sequence[Policy]) -> None:
        self.policies = tuple(policies)

    def enter(self, request: Request) -> tuple[list[Policy], Response | None]:
        """Run the policies' checks in order: the policies entered, and the answer of the
        one that answered (None when the request may reach the app)."""
        entered: list[Policy] = []
        for policy in self.policies:
            try:
                answer = policy.check(request)
            except StateError as exc:
                return entered, _unavailable(policy, request, exc)
            entered.append(policy)
            if answer is not None:
                return entered, answer
        return entered, None

    @staticmethod
    def leave(entered: list[Policy], request: Request, response: Response) -> Response:
        """Let the policies entered finish ``response``, in reverse order."""
        for policy in reversed(entered):
            try:
                policy.finish(request, response)
            except StateError as exc:
                if response.streamed is not None:
                    _log(policy, request, exc, "the streamed response goes on")
                    continue
                failed = _unavailable(policy, request, exc)
                response.status, response.headers, response.body = (
                    failed.status,
                    failed.headers,
                    failed.body,
                )
        return response

    @staticmethod
    def fail(entered: list[Policy], request: Request) -> None:
        """The app raised instead of answering: the policies entered give up the request."""
        for policy in reversed(entered):
            try:
                policy.fail(request)
            except StateError as exc:
                _log(policy, request, exc, "the app's failure is answered")

    def run(self, request: Request, app: Callable[[Request], Response]) -> Response:
        entered, answer = self.enter(request)
        if answer is None:
            try:
                answer = app(request)
            except BaseException:
                self.fail(entered, request)
                raise
        return self.leave(entered, request, answer)

    async def run_threaded(
        self,
        request: Request,
        app: Callable[[Request], Awaitable[Response]],
        call: Callable[..., Awaitable[Any]],
    ) -> Response:
        """As :meth:`run` for an async app, with the policies' own work done through
        ``call(function, *args)`` (e.g. on a thread): a policy waiting on a network store
        then holds no event loop."""
        entered, answer = await call(self.enter, request)
        if answer is None:
            try:
                answer = await app(request)
            except BaseException:
                await call(self.fail, entered, request)
                raise
        response: Response = await call(self.leave, entered, request, answer)
        return response


class Finishing:
    """A request past the policies' checks whose response the app is producing, for the
    servers that send the head before the app is done (a streamed body): the policies
    finish the head once (:meth:`head`), a policy that asked for the body gets it when the
    stream ends (:meth:`ended`), and without any response they give the request up."""

    def __init__(self, pipeline: Pipeline, entered: list[Policy], request: Request) -> None:
        self.pipeline = pipeline
        self.entered: list[Policy] | None = entered  # until the policies finished the head
        self.request = request
        self.streamed: StreamedBody | None = None

    @property
    def started(self) -> bool:
        """Whether the policies finished the head."""
        return self.entered is None

    def head(self, response: Response, streams: bool) -> Response:
        """The policies finish ``response``: whole, or (``streams``) with its body to come."""
        entered, self.entered = self.entered, None
        assert entered is not None, "the head was finished already"
        if streams:
            response.streamed = self.streamed = StreamedBody(STREAM_KEEP)
        return self.pipeline.leave(entered, self.request, response)

    def keep(self, chunk: bytes) -> None:
        """A chunk of the streamed body on its way out."""
        if self.streamed is not None:
            self.streamed.keep(chunk)

    def ended(self, whole: bool) -> None:
        """The response is over (once; later calls do nothing): ``whole`` when its body went
        out to the end. Without a head the policies give the request up."""
        entered, self.entered = self.entered, None
        if entered is not None:
            self.pipeline.fail(entered, self.request)
        streamed, self.streamed = self.streamed, None
        if streamed is not None:
            streamed.end(streamed.kept(whole))


def _log(policy: Policy, request: Request, exc: StateError, outcome: str) -> None:
    name = type(policy).__name__
    logger().error("%s for %s %s: %s (%s)", name, request.method, request.path, exc, outcome)


def _unavailable(policy: Policy, request: Request, exc: StateError) -> Response:
    _log(policy, request, exc, "answered 503")
    return Response.message(503, "Service Unavailable")
