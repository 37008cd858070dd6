"""Request policies shared by the local gateway and ASGI/WSGI middleware: a JWT authorizer,
throttling and per-client rate limits, CORS, sessions and idempotency.

Each policy is a small object with ``check`` / ``finish`` / ``fail`` over a request view
(:mod:`faasport.gateway.request`); :func:`asgi` and :func:`wsgi` put a list of them in front
of an app. Policies that keep state take a :mod:`faasport.state` store or its URL. Names are
imported on first use, so ``import faasport.gateway`` stays cheap.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from faasport.gateway.canonical import FunctionPolicies, policies, store_url
    from faasport.gateway.cors import Cors
    from faasport.gateway.idempotency import Idempotency
    from faasport.gateway.jwks import KeySet, KeySetError
    from faasport.gateway.jwt import JwtAuthorizer
    from faasport.gateway.middleware import asgi, authorizer, session, wsgi
    from faasport.gateway.pipeline import Pipeline
    from faasport.gateway.ratelimit import RateLimit, Throttle
    from faasport.gateway.request import Policy, Request, Response
    from faasport.gateway.sessions import Session, Sessions

__all__ = [
    "Cors",
    "FunctionPolicies",
    "Idempotency",
    "JwtAuthorizer",
    "KeySet",
    "KeySetError",
    "Pipeline",
    "Policy",
    "RateLimit",
    "Request",
    "Response",
    "Session",
    "Sessions",
    "Throttle",
    "asgi",
    "authorizer",
    "policies",
    "session",
    "store_url",
    "wsgi",
]

_WHERE = {
    "Cors": "cors",
    "FunctionPolicies": "canonical",
    "Idempotency": "idempotency",
    "JwtAuthorizer": "jwt",
    "KeySet": "jwks",
    "KeySetError": "jwks",
    "Pipeline": "pipeline",
    "Policy": "request",
    "RateLimit": "ratelimit",
    "Request": "request",
    "Response": "request",
    "Session": "sessions",
    "Sessions": "sessions",
    "Throttle": "ratelimit",
    "asgi": "middleware",
    "authorizer": "middleware",
    "policies": "canonical",
    "session": "middleware",
    "store_url": "canonical",
    "wsgi": "middleware",
}


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'faasport.gateway' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"faasport.gateway.{module}"), name)
    globals()[name] = value
    return value
