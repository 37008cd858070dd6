"""The policies the deployed API Gateway applies, built from the project's configuration for
the local gateway: ``[api] cors``, the ``[auth.NAME]`` JWT authorizer a function names with
``auth``, and its ``throttle``.

Built once when the gateway is made, so a bad value stops ``faasport dev`` at start; no key
set is read and no store opened before a request needs them. Stateful policies keep their
counters in ``[state] url``; a relative SQLite path is taken from the project root, not the
working directory, so ``faasport dev`` run from anywhere counts in the same file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from faasport.config.model import JwtAuth
from faasport.config.model import Throttle as ThrottleConfig
from faasport.local.client_policies import client_policies

if TYPE_CHECKING:
    from faasport.config.model import Project
    from faasport.gateway import Pipeline, Policy
    from faasport.gateway.api_keys import ApiKeys
    from faasport.gateway.cors import Cors

#: The variable that gives every function ``[state] url`` (locally, and on AWS when the
#: state store is the DynamoDB table the deployment creates).
STATE_VARIABLE = "FAASPORT_STATE_URL"


def store_url(project: Project) -> str:
    """``[state] url``, a relative ``sqlite:///`` path made absolute under the project."""
    url = project.state.url
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        path = url[len(prefix) :]
        if not path.startswith(":memory:"):
            return prefix + str(Path(project.root, path).resolve())
    return url


class Policies:
    """The pipeline for each function, and CORS for preflights no route answers."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._cors: Cors | None = None
        self._store = store_url(project)
        self._api_keys: ApiKeys | None = None
        self._pipelines = {name: self._build(name) for name in project.functions}

    @property
    def cors(self) -> Cors | None:
        config = self.project.api.cors
        if config is None:
            return None
        if self._cors is None:
            from faasport.gateway.cors import Cors

            self._cors = Cors(
                origins=config.origins,
                methods=config.methods,
                headers=config.headers,
                max_age=config.max_age or None,
            )
        return self._cors

    def pipeline(self, function: str) -> Pipeline | None:
        """The policies in front of ``function``; None when it has none (nothing to run)."""
        return self._pipelines[function]

    def _build(self, function: str) -> Pipeline | None:
        from faasport.gateway.pipeline import Pipeline

        fn = self.project.functions[function]
        policies: list[Policy] = []
        cors = self.cors
        if cors is not None:  # first: a 401 or 429 carries the CORS headers too
            policies.append(cors)
        auth = self.project.auth.get(fn.auth)
        if isinstance(auth, JwtAuth):  # Lambda authorizers: faasport.local.authorizers
            from faasport.gateway.jwt import JwtAuthorizer

            jwks = auth.jwks
            if jwks is None:  # discovered from the issuer, as API Gateway does
                jwks = auth.issuer.rstrip("/") + "/.well-known/jwks.json"
            elif "://" not in jwks:
                jwks = str(Path(self.project.root, jwks))
            policies.append(
                JwtAuthorizer(
                    issuer=auth.issuer,
                    audience=auth.audience,
                    jwks=jwks,
                    scopes=fn.scopes,
                    identity=auth.identity,
                )
            )
        throttle = self.project.api.throttle
        if throttle != ThrottleConfig():  # the account's defaults are not a configured limit
            from faasport.gateway.ratelimit import Throttle

            policies.append(
                Throttle(self._store, rate=throttle.rate, burst=throttle.burst, name="$stage")
            )
        if fn.throttle is not None:
            from faasport.gateway.ratelimit import Throttle

            policies.append(
                Throttle(self._store, rate=fn.throttle.rate, burst=fn.throttle.burst, name=function)
            )
        if fn.api_key_required:
            if self._api_keys is None:
                from faasport.local.api_keys import api_keys_policy

                self._api_keys = api_keys_policy(self.project, self._store)
            policies.append(self._api_keys)
        policies += client_policies(fn, self._store)
        return Pipeline(policies) if policies else None
