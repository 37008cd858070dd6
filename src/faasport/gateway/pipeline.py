"""Running policies in order around an app, the same for sync (WSGI, the local gateway)
and async (ASGI) callers."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from typing import Any

    from faasport.gateway.request import Policy, Request, Response


class Pipeline:
    """Policies run in the given order before the app and in reverse after it; a policy
    that answers ends the request, and the policies before it still ``finish`` it (so a
    401 carries CORS headers, a 429 the rate-limit headers)."""

    def __init__(self, policies: Sequence[Policy]) -> None:
        self.policies = tuple(policies)

    def _enter(self, request: Request) -> tuple[list[Policy], Response | None]:
        entered: list[Policy] = []
        for policy in self.policies:
            entered.append(policy)
            answer = policy.check(request)
            if answer is not None:
                return entered, answer
        return entered, None

    @staticmethod
    def _leave(entered: list[Policy], request: Request, response: Response) -> Response:
        for policy in reversed(entered):
            policy.finish(request, response)
        return response

    def run(self, request: Request, app: Callable[[Request], Response]) -> Response:
        entered, answer = self._enter(request)
        if answer is None:
            try:
                answer = app(request)
            except BaseException:
                for policy in reversed(entered):
                    policy.fail(request)
                raise
        return self._leave(entered, request, answer)

    async def run_async(
        self, request: Request, app: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        entered, answer = self._enter(request)
        if answer is None:
            try:
                answer = await app(request)
            except BaseException:
                for policy in reversed(entered):
                    policy.fail(request)
                raise
        return self._leave(entered, request, answer)

    async def run_threaded(
        self,
        request: Request,
        app: Callable[[Request], Awaitable[Response]],
        call: Callable[..., Awaitable[Any]],
    ) -> Response:
        """As :meth:`run_async`, with the policies' own work done through ``call(function,
        *args)`` (e.g. on a thread): a policy waiting on a network store then holds no
        event loop."""
        entered, answer = await call(self._enter, request)
        if answer is None:
            try:
                answer = await app(request)
            except BaseException:
                await call(self._fail, entered, request)
                raise
        response: Response = await call(self._leave, entered, request, answer)
        return response

    @staticmethod
    def _fail(entered: list[Policy], request: Request) -> None:
        for policy in reversed(entered):
            policy.fail(request)
