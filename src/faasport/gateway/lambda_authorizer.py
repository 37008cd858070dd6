"""A Lambda authorizer as API Gateway runs it: which event the authorizer function gets,
how its answer is read, what is cached, and what the client is told.

The authorizer works on the proxy event API Gateway builds for the route's function (2.0 on
HTTP APIs, 1.0 on REST APIs), so it sees exactly the request the function would. Calling the
authorizer function is the caller's business (``invoke``), so the same object serves the
local gateway and tests.

What the client gets when the function is not reached, as API Gateway answers by default:

=============================================  ===============  =============================
case                                           HTTP API         REST API
=============================================  ===============  =============================
an identity source missing or empty            401 Unauthorized 401 Unauthorized
TOKEN not matching ``validation``              --               401 Unauthorized
the authorizer raised ``Unauthorized``         500              401 Unauthorized
``isAuthorized: false`` / a policy's Deny      403 Forbidden    403 ``{"Message": ...}``
no Allow for the method ARN                    403 Forbidden    403 ``{"Message": ...}``
the authorizer failed or answered nonsense     500 Internal     500 ``{"message": null}``
=============================================  ===============  =============================
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

from faasport.gateway.request import Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from typing import Any

#: An authorizer function raising an error with exactly this message means "401" (REST).
UNAUTHORIZED = "Unauthorized"
_EXPLICIT_DENY = "User is not authorized to access this resource with an explicit deny"
_IMPLICIT_DENY = "User is not authorized to access this resource"
_INVOKE_ACTIONS = frozenset(["*", "execute-api:*", "execute-api:invoke"])


class AuthorizerRaised(Exception):
    """The authorizer function failed; ``message`` is its ``errorMessage``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthorizerFault(Exception):
    """The authorizer's answer cannot be used (API Gateway's "configuration error")."""


@dataclass(frozen=True)
class Verdict:
    """The request may go on; ``authorizer`` is its ``requestContext.authorizer``."""

    authorizer: dict[str, Any]


class LambdaAuthorizer:
    """``api`` is "http" (payload format 2.0) or "rest" (1.0); ``event`` "request" or
    "token" (REST only); ``identity`` the identity sources (``$request.header.X``,
    ``$request.querystring.X``, ``$context.X``, ``$stageVariables.X``); results are cached
    by their values for ``ttl`` seconds; ``simple``: HTTP API simple responses."""

    def __init__(
        self,
        *,
        api: str,
        event: str = "request",
        identity: Sequence[str] = ("$request.header.Authorization",),
        ttl: float = 0,
        simple: bool = True,
        validation: str | None = None,
        region: str = "us-east-1",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rest = api == "rest"
        self.token = event == "token"
        self.identity = tuple(identity)
        self.ttl = ttl
        self.simple = simple and not self.rest
        self.validation = re.compile(validation) if validation else None
        self.region = region
        self._clock = clock
        self._cache: dict[tuple[str, ...], tuple[float, Any]] = {}

    # -- the event -------------------------------------------------------------------------

    def identity_values(self, event: dict[str, Any]) -> list[str] | None:
        """The identity source values of a proxy event; None when one is missing or empty."""
        values: list[str] = []
        for source in self.identity:
            value = _lookup(event, source)
            if not value:
                return None
            values.append(value)
        return values

    def method_arn(self, event: dict[str, Any]) -> str:
        context = event["requestContext"]
        if self.rest:
            method, path = event["httpMethod"], event["path"]
        else:
            method, path = context["http"]["method"], event["rawPath"]
        return (
            f"arn:aws:execute-api:{self.region}:{context['accountId']}:{context['apiId']}/"
            f"{context['stage']}/{method}{path}"
        )

    def event(self, proxy: dict[str, Any], identity: list[str]) -> dict[str, Any]:
        """What the authorizer function receives for a request whose proxy event is ``proxy``."""
        arn = self.method_arn(proxy)
        if self.token:
            return {"type": "TOKEN", "authorizationToken": identity[0], "methodArn": arn}
        rest = {k: v for k, v in proxy.items() if k not in ("body", "isBase64Encoded")}
        if self.rest:
            return {"type": "REQUEST", "methodArn": arn, **rest}
        event = {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": arn,
            "identitySource": identity,
            **{k: v for k, v in rest.items() if k != "version"},
        }
        if "queryStringParameters" not in event and event.get("rawQueryString"):
            event["queryStringParameters"] = _query_parameters(event["rawQueryString"])
        return event

    # -- deciding --------------------------------------------------------------------------

    async def authorize(
        self, proxy: dict[str, Any], invoke: Callable[[dict[str, Any]], Awaitable[Any]]
    ) -> Verdict | Response:
        """Run the authorizer for the request of ``proxy`` (calling ``invoke`` with its event
        unless a cached result applies): a :class:`Verdict`, or the gateway's answer."""
        identity = self.identity_values(proxy)
        if identity is None:
            return self.unauthorized()
        if self.validation is not None and not self.validation.fullmatch(identity[0]):
            return self.unauthorized()
        key = tuple(identity)
        cached = self._cached(key)
        latency = 0
        if cached is None:
            started = time.perf_counter()
            try:
                result = await invoke(self.event(proxy, identity))
            except AuthorizerRaised as exc:
                if self.rest and exc.message == UNAUTHORIZED:
                    return self.unauthorized()
                return self.failed()
            latency = round((time.perf_counter() - started) * 1000)
        else:
            result = cached
        try:
            verdict = self.decide(result, proxy, latency)
        except AuthorizerFault:
            return self.failed()
        if cached is None and self.ttl > 0:
            self._cache[key] = (self._clock() + self.ttl, result)
        return verdict

    def decide(self, result: Any, proxy: dict[str, Any], latency: int = 0) -> Verdict | Response:
        """Read the authorizer's answer; raises :class:`AuthorizerFault` when it is unusable."""
        if not isinstance(result, dict):
            raise AuthorizerFault("the answer is not a JSON object")
        context = result.get("context")
        if context is not None and not isinstance(context, dict):
            raise AuthorizerFault("context is not an object")
        if self.simple:
            allowed = result.get("isAuthorized")
            if not isinstance(allowed, bool):
                raise AuthorizerFault("isAuthorized is not a boolean")
            if not allowed:
                return self.forbidden(explicit=True)
            return Verdict({"lambda": context or {}})
        effect = _evaluate(result.get("policyDocument"), self.method_arn(proxy))
        if effect != "Allow":
            return self.forbidden(explicit=effect == "Deny")
        if not self.rest:
            return Verdict({"lambda": context or {}})
        principal = result.get("principalId")
        if not isinstance(principal, str) or not principal:
            raise AuthorizerFault("principalId is missing")
        authorizer: dict[str, Any] = {"principalId": principal, "integrationLatency": latency}
        for name, value in (context or {}).items():
            authorizer[name] = _context_value(value)
        return Verdict(authorizer)

    # -- the gateway's answers -------------------------------------------------------------

    def unauthorized(self) -> Response:
        headers = [("x-amzn-errortype", "UnauthorizedException")] if self.rest else []
        return Response.message(401, "Unauthorized", headers)

    def forbidden(self, *, explicit: bool) -> Response:
        if not self.rest:
            return Response.message(403, "Forbidden")
        text = _EXPLICIT_DENY if explicit else _IMPLICIT_DENY
        body = json.dumps({"Message": text}, separators=(",", ":")).encode()
        headers = [
            ("content-type", "application/json"),
            ("x-amzn-errortype", "AccessDeniedException"),
        ]
        return Response(403, headers, body)

    def failed(self) -> Response:
        if not self.rest:
            return Response.message(500, "Internal Server Error")
        headers = [
            ("content-type", "application/json"),
            ("x-amzn-errortype", "AuthorizerConfigurationException"),
        ]
        return Response(500, headers, b'{"message":null}')

    def _cached(self, key: tuple[str, ...]) -> Any:
        if self.ttl <= 0:
            return None
        found = self._cache.get(key)
        if found is None:
            return None
        expires, result = found
        if self._clock() >= expires:
            del self._cache[key]
            return None
        return result


def _lookup(event: dict[str, Any], source: str) -> str | None:
    """One identity source's value in a proxy event (1.0 or 2.0)."""
    if source.startswith("$request.header."):
        wanted = source[len("$request.header.") :].lower()
        for name, value in (event.get("headers") or {}).items():
            if name.lower() == wanted:
                return str(value)
        return None
    if source.startswith("$request.querystring."):
        query = event.get("queryStringParameters")
        if query is None and event.get("rawQueryString"):
            query = _query_parameters(event["rawQueryString"])
        value = (query or {}).get(source[len("$request.querystring.") :])
        return None if value is None else str(value)
    if source.startswith("$stageVariables."):
        value = (event.get("stageVariables") or {}).get(source[len("$stageVariables.") :])
        return None if value is None else str(value)
    found: Any = event.get("requestContext") or {}
    for part in source[len("$context.") :].split("."):
        if not isinstance(found, dict):
            return None
        found = found.get(part)
    return None if found is None or isinstance(found, dict | list) else str(found)


def _query_parameters(raw: str) -> dict[str, str]:
    """2.0's ``queryStringParameters``: repeated names joined with commas."""
    from urllib.parse import parse_qsl

    joined: dict[str, str] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def _evaluate(document: Any, arn: str) -> str | None:
    """ "Deny" when a statement denies ``arn``, else "Allow" when one allows it, else None."""
    if not isinstance(document, dict):
        raise AuthorizerFault("policyDocument is missing")
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise AuthorizerFault("policyDocument.Statement is missing")
    effect: str | None = None
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            raise AuthorizerFault("a statement has no Effect of Allow or Deny")
        actions = _strings(statement.get("Action"))
        resources = _strings(statement.get("Resource"))
        if not any(action.lower() in _INVOKE_ACTIONS for action in actions):
            continue
        if not any(_arn_pattern(resource).fullmatch(arn) for resource in resources):
            continue
        if statement["Effect"] == "Deny":
            return "Deny"
        effect = "Allow"
    return effect


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise AuthorizerFault("Action and Resource must be strings or lists of strings")


def _arn_pattern(resource: str) -> re.Pattern[str]:
    """IAM's wildcards: ``*`` any run of characters, ``?`` one character."""
    return re.compile(
        ".*".join(".".join(map(re.escape, part.split("?"))) for part in resource.split("*"))
    )


def _context_value(value: Any) -> str:
    """REST APIs pass context values to the function as strings, and accept only scalars."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise AuthorizerFault("context values must be strings, numbers or booleans")
