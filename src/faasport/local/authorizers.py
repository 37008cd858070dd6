"""The Lambda authorizers of ``faasport dev``: for each function whose ``auth`` names an
``[auth.NAME] type = "lambda"`` entry, the authorizer function runs as a real local function
(its own environments, logs and limits), through the invoker the gateway uses, before the
function is invoked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faasport.config.model import LambdaAuth
from faasport.gateway.lambda_authorizer import AuthorizerRaised, LambdaAuthorizer, Verdict

if TYPE_CHECKING:
    from faasport.config.model import Project
    from faasport.gateway.request import Response
    from faasport.local.invoker import Log, RuntimeInvoker


class Authorizers:
    """One :class:`LambdaAuthorizer` per ``[auth.NAME]`` (so functions sharing it share its
    cache, as they share one authorizer on API Gateway)."""

    def __init__(self, project: Project) -> None:
        self._by_function: dict[str, tuple[LambdaAuth, LambdaAuthorizer]] = {}
        made: dict[str, LambdaAuthorizer] = {}
        for function in project.functions.values():
            entry = project.auth.get(function.auth)
            if not isinstance(entry, LambdaAuth):
                continue
            if entry.name not in made:
                made[entry.name] = LambdaAuthorizer(
                    api=project.api.type,
                    event=entry.event,
                    identity=entry.identity,
                    ttl=entry.ttl,
                    simple=entry.simple,
                    validation=entry.validation,
                    region=project.region,
                )
            self._by_function[function.name] = (entry, made[entry.name])

    def __contains__(self, function: str) -> bool:
        return function in self._by_function

    async def authorize(
        self, function: str, event: dict[str, Any], invoker: RuntimeInvoker, log: Log
    ) -> Verdict | Response:
        """The authorizer's verdict on the request whose proxy event is ``event``."""
        from faasport.local.invoker import InvocationError

        entry, authorizer = self._by_function[function]

        raised = False

        async def invoke(authorizer_event: dict[str, Any]) -> Any:
            nonlocal raised
            try:
                return await invoker.invoke_async(entry.function, authorizer_event)
            except InvocationError as exc:
                raised = True
                log(f'[gateway] authorizer "{entry.name}" ({entry.function}) failed: {exc}')
                raise AuthorizerRaised(str(exc.payload.get("errorMessage"))) from None

        answer = await authorizer.authorize(event, invoke)
        if not raised and not isinstance(answer, Verdict) and answer.status == 500:
            log(
                f'[gateway] authorizer "{entry.name}" ({entry.function}): 500: its answer is '
                "neither a simple response nor an IAM policy API Gateway accepts"
            )
        return answer
