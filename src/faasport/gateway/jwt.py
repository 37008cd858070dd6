"""A JWT authorizer as API Gateway HTTP APIs run it.

The token comes from ``Authorization`` (bare or ``Bearer <token>``), or from the identity
source given: ``$request.header.NAME`` or ``$request.querystring.NAME`` (browsers cannot set
headers on a WebSocket, so its handshake carries the token in the query). Its signature is checked
with a key from a JWKS (RS256, ES256, EdDSA...; ``none`` and HMAC algorithms are never
accepted, so a token "signed" with the public key as an HMAC secret fails); ``iss`` must equal
the issuer exactly; ``aud`` must name one of the audiences, or, without ``aud``, ``client_id``
must; ``exp`` is required and ``exp``/``nbf``/``iat`` are checked with a small leeway. A route
with scopes needs at least one of them in the token's ``scope`` (space-separated) or ``scp``
claim. Failures answer 401 ``{"message":"Unauthorized"}``, a missing scope 403
``{"message":"Forbidden"}``. The app finds ``{"jwt": {"claims": ..., "scopes": ...}}`` as
API Gateway's ``requestContext.authorizer``: see :func:`faasport.gateway.authorizer`.

PyJWT and cryptography are imported on the first request (``pip install faasport[jwt]``).
"""

from __future__ import annotations

import math
import sys
import time

from faasport.core.errors import ConfigError
from faasport.gateway.jwks import KeySet, KeySetError
from faasport.gateway.request import Policy, Request, Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any, TypeGuard

#: Asymmetric algorithms accepted by default, and the key type each needs.
ALGORITHMS = {
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "ES256": "EC",
    "ES384": "EC",
    "ES512": "EC",
    "EdDSA": "OKP",
}
#: Seconds of clock difference tolerated on exp, nbf and iat.
LEEWAY = 5.0
#: Tokens kept verified at most: a client sends one token for many requests, and checking
#: its signature again costs far more than the rest of a request's policies.
VERIFIED_TOKENS = 1024


class JwtAuthorizer(Policy):
    """``scopes`` maps route keys (``"POST /items"``, ``"ANY /admin/{proxy+}"``) to the
    scopes any one of which the route needs; routes not listed need none."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str | Sequence[str],
        jwks: str | KeySet,
        scopes: Mapping[str, Sequence[str]] | None = None,
        algorithms: Sequence[str] = tuple(ALGORITHMS),
        leeway: float = LEEWAY,
        clock: Callable[[], float] = time.time,
        identity: str = "$request.header.Authorization",
    ) -> None:
        from faasport.gateway.routes import RouteTable

        where, _, name = identity.rpartition(".")
        if where not in ("$request.header", "$request.querystring") or not name:
            raise ConfigError(
                f"JWT authorizer: identity {identity!r} is not $request.header.NAME "
                "or $request.querystring.NAME"
            )
        #: Where the token is: ("header", lower-case name) or ("querystring", name).
        self.identity = (where[9:], name.lower() if where == "$request.header" else name)

        refused = [a for a in algorithms if a not in ALGORITHMS]
        if refused:
            raise ConfigError(
                f"JWT algorithms {refused} are not accepted: use asymmetric ones from "
                f"{', '.join(ALGORITHMS)} (never none or HS*)"
            )
        if not issuer:
            raise ConfigError("JWT authorizer: issuer is empty")
        self.issuer = issuer
        self.audience = {audience} if isinstance(audience, str) else set(audience)
        if not self.audience:
            raise ConfigError("JWT authorizer: audience is empty")
        self.keys = jwks if isinstance(jwks, KeySet) else KeySet(jwks)
        self.scopes = RouteTable(scopes or {})
        self.algorithms = tuple(algorithms)
        self.leeway = leeway
        self._clock = clock
        #: token -> (key, kid, claims) of tokens whose signature, issuer and audience held.
        self._verified: dict[str, tuple[Any, str | None, dict[str, Any]]] = {}

    def check(self, request: Request) -> Response | None:
        claims = self.verify(self.token(request))
        if claims is None:
            return Response.message(401, "Unauthorized")
        granted = _scopes(claims)
        needed = self.scopes.find(request.method, request.path)
        if needed and not set(needed) & set(granted):  # type: ignore[call-overload]
            return Response.message(403, "Forbidden")
        request.context["authorizer"] = {"jwt": {"claims": claims, "scopes": granted or None}}
        return None

    def token(self, request: Request) -> str:
        """The identity source's value in ``request`` ("" when it is missing)."""
        where, name = self.identity
        if where == "header":
            return request.headers.get(name, "")
        from urllib.parse import parse_qs

        return parse_qs(request.query).get(name, [""])[0]

    def verify(self, authorization: str) -> dict[str, Any] | None:
        """The claims of a valid token in an ``Authorization`` value, else None."""
        import jwt

        token = authorization.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            return None
        cached = self._verified.get(token)
        if cached is not None:
            kept_key, kid, kept = cached
            try:
                current = self.keys.get(kid)
            except KeySetError:
                current = None
            if current is kept_key:  # still the key set's (a rotation may have removed it)
                return dict(kept) if self._times_ok(kept) else None
            self._verified.pop(token, None)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            return None
        try:
            key = self.keys.get(header.get("kid"))
        except KeySetError as exc:
            # Fail closed, and say why where the operator looks.
            print(f"faasport: JWT authorizer: {exc}", file=sys.stderr)
            return None
        if key is None or key.key_type != ALGORITHMS[algorithm]:
            return None
        declared = _declared(key)
        if declared and declared != algorithm:
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                issuer=self.issuer,
                leeway=self.leeway,
                # Times are checked below against this authorizer's clock, audience there too.
                options={
                    "require": ["exp", "iss"],
                    "verify_aud": False,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            return None
        if not self._audience_ok(claims) or not self._times_ok(claims):
            return None
        self._remember(token, key, header.get("kid"), claims)
        return dict(claims)

    def _remember(self, token: str, key: Any, kid: str | None, claims: dict[str, Any]) -> None:
        verified = self._verified
        if len(verified) >= VERIFIED_TOKENS:
            from contextlib import suppress

            # The oldest goes; another thread may be at it too.
            with suppress(KeyError, RuntimeError, StopIteration):
                del verified[next(iter(verified))]
        verified[token] = (key, kid, claims)

    def _audience_ok(self, claims: Mapping[str, Any]) -> bool:
        audience = claims.get("aud")
        if audience is None:
            return claims.get("client_id") in self.audience
        names = [audience] if isinstance(audience, str) else audience
        return isinstance(names, list) and any(
            isinstance(n, str) and n in self.audience for n in names
        )

    def _times_ok(self, claims: Mapping[str, Any]) -> bool:
        now = self._clock()
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        if not _numeric_date(exp) or exp <= now - self.leeway:
            return False
        if nbf is not None and (not _numeric_date(nbf) or nbf > now + self.leeway):
            return False
        return iat is None or (_numeric_date(iat) and iat <= now + self.leeway)


def _numeric_date(value: object) -> TypeGuard[int | float]:
    """Whether ``value`` is a NumericDate (RFC 7519): a finite number, not a boolean (JSON's
    NaN and Infinity, which Python's parser accepts, compare as neither past nor future)."""
    return type(value) is int or (type(value) is float and math.isfinite(value))


def _declared(key: Any) -> str | None:
    """The algorithm the JWK itself names (``alg``), which the token must then use."""
    declared = getattr(key, "_jwk_data", {}).get("alg")
    return declared if isinstance(declared, str) else None


def _scopes(claims: Mapping[str, Any]) -> list[str]:
    scope = claims.get("scope", claims.get("scp"))
    if isinstance(scope, str):
        return scope.split()
    if isinstance(scope, list):
        return [s for s in scope if isinstance(s, str)]
    return []
